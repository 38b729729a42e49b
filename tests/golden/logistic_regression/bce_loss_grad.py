import math


def bce_loss_grad(w, b, X, y):
    # line 38: for i in range(len(X)):
    _t1 = len(X)
    # line 40: for k in range(len(w)):
    _t2 = len(w)
    # line 44: return total / len(X)
    _t3 = len(X)
    # reverse sweep
    # line 35: def bce_loss(w: list[float], b: float, X: list[list[float]], y: list[float]) -> float:
    w_bar = [0.0] * len(w)
    X_bar = [[0.0] * len(_row2) for _row2 in X]
    y_bar = [0.0] * len(y)
    # line 44: return total / len(X)
    total_bar = 1 / _t3
    # line 38: for i in range(len(X)):
    b_bar = 0.0
    for i in range(_t1):
        # this iteration again (the loop only accumulates: nothing is taped)
        # line 41: z += w[k] * X[i][k]
        _t4 = X[i]
        # line 40: for k in range(len(w)):
        z = b
        for k in range(_t2):
            # line 41: z += w[k] * X[i][k]
            z += w[k] * _t4[k]
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t5 = math.exp(-z)
        _t6 = 1.0 + _t5
        s = 1.0 / _t6
        # line 43: total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
        _t7 = y[i]
        _t8 = math.log(s)
        _t9 = 1.0 - _t7
        _t10 = 1.0 - s
        _t11 = math.log(_t10)
        _t12_bar = -total_bar
        _t13 = total_bar * _t11
        _t14 = total_bar * _t9 * (1.0 / _t10)
        y_bar[i] += _t13
        _t7_bar = _t12_bar * _t8
        s_bar = _t14 + total_bar * _t7 * (-1.0 / s)
        y_bar[i] += _t7_bar
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t15 = s_bar * (s / _t6) * _t5
        # line 41: z += w[k] * X[i][k]
        _t4 = X[i]
        _t4_bar = X_bar[i]
        # line 40: for k in range(len(w)):
        for k in range(_t2):
            # line 41: z += w[k] * X[i][k]
            _t16 = w[k]
            _t16_bar = _t15 * _t4[k]
            _t4_bar[k] += _t15 * _t16
            w_bar[k] += _t16_bar
        # line 39: z = b
        b_bar += _t15
    return w_bar, b_bar, X_bar, y_bar

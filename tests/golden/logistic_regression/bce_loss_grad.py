import math


def bce_loss_grad(w, b, X, y):
    # line 38: for i in range(len(X)):
    _t1 = len(X)
    # line 40: for k in range(len(w)):
    _t2 = len(w)
    # reverse sweep
    # line 35: def bce_loss(w: list[float], b: float, X: list[list[float]], y: list[float]) -> float:
    w_bar = [0.0] * len(w)
    X_bar = [[0.0] * len(_row2) for _row2 in X]
    y_bar = [0.0] * len(y)
    # line 44: return total / len(X)
    total_bar = 1 / _t1
    # line 38: for i in range(len(X)):
    b_bar = 0.0
    for i in range(_t1):
        # this iteration again (the loop only accumulates: nothing is taped)
        # line 41: z += w[k] * X[i][k]
        _t3 = X[i]
        # line 39: z = b
        z = b
        # line 40: for k in range(len(w)):
        for k in range(_t2):
            # line 41: z += w[k] * X[i][k]
            z += w[k] * _t3[k]
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t4 = math.exp(-z)
        _t5 = 1.0 + _t4
        s = 1.0 / _t5
        # line 43: total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
        _t6 = y[i]
        _t7 = math.log(s)
        _t8 = 1.0 - _t6
        _t9 = 1.0 - s
        _t10 = math.log(_t9)
        _t11 = -total_bar
        _t12 = total_bar * _t10
        _t13 = total_bar * _t8 * (1.0 / _t9)
        y_bar[i] += _t12
        _t6_bar = _t11 * _t7
        s_bar = _t13 + total_bar * _t6 * (-1.0 / s)
        y_bar[i] += _t6_bar
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t14 = s_bar * (s / _t5) * _t4
        # line 41: z += w[k] * X[i][k]
        _t3_bar = X_bar[i]
        # line 40: for k in range(len(w)):
        for k in range(_t2):
            # line 41: z += w[k] * X[i][k]
            _t15 = w[k]
            _t15_bar = _t14 * _t3[k]
            _t3_bar[k] += _t14 * _t15
            w_bar[k] += _t15_bar
        # line 39: z = b
        b_bar += _t14
    return w_bar, b_bar, X_bar, y_bar

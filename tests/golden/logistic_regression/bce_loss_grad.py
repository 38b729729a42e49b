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
        _t4 = X[i]
        # line 39: z = b
        z = b
        # line 40: for k in range(len(w)):
        for k in range(_t2):
            # line 41: z += w[k] * X[i][k]
            z += w[k] * _t4[k]
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t9 = math.exp(-z)
        _t10 = 1.0 + _t9
        s = 1.0 / _t10
        # line 43: total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
        _t12 = y[i]
        _t13 = math.log(s)
        _t16 = 1.0 - _t12
        _t17 = 1.0 - s
        _t18 = math.log(_t17)
        _t29 = -total_bar
        _t21 = total_bar * _t18
        _t11 = total_bar * _t16 * (1.0 / _t17)
        y_bar[i] += _t21
        _t12_bar = _t29 * _t13
        s_bar = _t11 + total_bar * _t12 * (-1.0 / s)
        y_bar[i] += _t12_bar
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t28 = s_bar * (s / _t10) * _t9
        # line 41: z += w[k] * X[i][k]
        _t4_bar = X_bar[i]
        # line 40: for k in range(len(w)):
        for k in range(_t2):
            # line 41: z += w[k] * X[i][k]
            _t3 = w[k]
            _t3_bar = _t28 * _t4[k]
            _t4_bar[k] += _t28 * _t3
            w_bar[k] += _t3_bar
        # line 39: z = b
        b_bar += _t28
    return w_bar, b_bar, X_bar, y_bar

import math


def bce_loss_grad(w, b, X, y):
    # line 38: for i in range(len(X)):
    _t1 = len(X)
    # line 44: return total / len(X)
    _t2 = len(X)
    # reverse sweep
    # line 35: def bce_loss(w: list[float], b: float, X: list[list[float]], y: list[float]) -> float:
    w_bar = [0.0] * len(w)
    X_bar = [[0.0] * len(_row2) for _row2 in X]
    y_bar = [0.0] * len(y)
    # line 44: return total / len(X)
    _t3 = -1 / _t2
    # line 38: for i in range(len(X)):
    b_bar = 0.0
    for i in reversed(range(_t1)):
        # this iteration again (the loop only accumulates: nothing is taped)
        # line 40: for k in range(len(w)):
        _t4 = len(w)
        z = b
        for k in range(_t4):
            # line 41: z += w[k] * X[i][k]
            _t5 = w[k]
            _t6 = X[i]
            _t7 = _t6[k]
            _t8 = _t5 * _t7
            z += _t8
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t9 = -z
        _t10 = math.exp(_t9)
        _t11 = 1.0 + _t10
        s = 1.0 / _t11
        # line 43: total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
        _t12 = y[i]
        _t13 = math.log(s)
        _t14 = 1.0 - _t12
        _t15 = 1.0 - s
        _t16 = math.log(_t15)
        _t14_bar = _t3 * _t16
        _t16_bar = _t3 * _t14
        _t17 = -1.0 / _t15
        _t18 = _t16_bar * _t17
        _t19_bar = -_t14_bar
        y_bar[i] += _t19_bar
        _t12_bar = _t3 * _t13
        _t13_bar = _t3 * _t12
        _t20 = 1.0 / s
        _t21 = _t13_bar * _t20
        s_bar = _t18 + _t21
        y_bar[i] += _t12_bar
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t22 = s / _t11
        _t23 = s_bar * _t22
        _t24 = _t23 * _t10
        # line 40: for k in range(len(w)):
        for k in reversed(range(_t4)):
            # line 41: z += w[k] * X[i][k]
            _t5 = w[k]
            _t6 = X[i]
            _t7 = _t6[k]
            _t6_bar = X_bar[i]
            _t5_bar = _t24 * _t7
            _t7_bar = _t24 * _t5
            _t6_bar[k] += _t7_bar
            w_bar[k] += _t5_bar
        # line 39: z = b
        b_bar += _t24
    return w_bar, b_bar, X_bar, y_bar

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
    for i in reversed(range(_t1)):
        # this iteration again (the loop only accumulates: nothing is taped)
        # line 41: z += w[k] * X[i][k]
        _t4 = X[i]
        # line 40: for k in range(len(w)):
        z = b
        for k in range(_t2):
            # line 41: z += w[k] * X[i][k]
            _t5 = w[k]
            _t6 = _t4[k]
            _t7 = _t5 * _t6
            z += _t7
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t8 = -z
        _t9 = math.exp(_t8)
        _t10 = 1.0 + _t9
        s = 1.0 / _t10
        # line 43: total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
        _t11 = y[i]
        _t12 = math.log(s)
        _t13 = 1.0 - _t11
        _t14 = 1.0 - s
        _t15 = math.log(_t14)
        _t16_bar = -total_bar
        _t17 = total_bar * _t15
        _t18 = total_bar * _t13
        _t19 = 1.0 / _t14
        _t20 = _t18 * _t19
        y_bar[i] += _t17
        _t11_bar = _t16_bar * _t12
        _t21 = total_bar * _t11
        _t22 = -1.0 / s
        _t23 = _t21 * _t22
        s_bar = _t20 + _t23
        y_bar[i] += _t11_bar
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t24 = s / _t10
        _t25 = s_bar * _t24
        _t26 = _t25 * _t9
        # line 41: z += w[k] * X[i][k]
        _t4 = X[i]
        _t4_bar = X_bar[i]
        # line 40: for k in range(len(w)):
        for k in reversed(range(_t2)):
            # line 41: z += w[k] * X[i][k]
            _t5 = w[k]
            _t6 = _t4[k]
            _t5_bar = _t26 * _t6
            _t6_bar = _t26 * _t5
            _t4_bar[k] += _t6_bar
            w_bar[k] += _t5_bar
        # line 39: z = b
        b_bar += _t26
    return w_bar, b_bar, X_bar, y_bar

import math


def bce_loss_grad(w, b, X, y):
    _tape = []
    # line 38: for i in range(len(X)):
    _t1 = len(X)
    for i in range(_t1):
        # line 40: for k in range(len(w)):
        _t2 = len(w)
        z = b
        for k in range(_t2):
            # line 41: z += w[k] * X[i][k]
            _t3 = w[k]
            _t4 = X[i]
            _t5 = _t4[k]
            _t6 = _t3 * _t5
            z += _t6
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t7 = -z
        _t8 = math.exp(_t7)
        _t9 = 1.0 + _t8
        s = 1.0 / _t9
        # line 43: total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
        _t10 = math.log(s)
        _t11 = 1.0 - s
        _t12 = math.log(_t11)
        # line 38: for i in range(len(X)):
        _tape.append((_t8, s, _t10, _t12))
    # line 44: return total / len(X)
    _t13 = len(X)
    # reverse sweep
    # line 35: def bce_loss(w: list[float], b: float, X: list[list[float]], y: list[float]) -> float:
    w_bar = [0.0] * len(w)
    X_bar = [[0.0] * len(_row2) for _row2 in X]
    y_bar = [0.0] * len(y)
    # line 44: return total / len(X)
    _t14 = -1 / _t13
    # line 38: for i in range(len(X)):
    b_bar = 0.0
    for i in reversed(range(_t1)):
        _t8, s, _t10, _t12 = _tape.pop()
        # line 40: for k in range(len(w)):
        _t2 = len(w)
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t9 = 1.0 + _t8
        # line 43: total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
        _t15 = y[i]
        _t16 = 1.0 - _t15
        _t11 = 1.0 - s
        _t16_bar = _t14 * _t12
        _t12_bar = _t14 * _t16
        _t17 = -1.0 / _t11
        _t18 = _t12_bar * _t17
        _t19_bar = -_t16_bar
        y_bar[i] += _t19_bar
        _t15_bar = _t14 * _t10
        _t10_bar = _t14 * _t15
        _t20 = 1.0 / s
        _t21 = _t10_bar * _t20
        s_bar = _t18 + _t21
        y_bar[i] += _t15_bar
        # line 42: s = 1.0 / (1.0 + math.exp(-z))
        _t22 = s / _t9
        _t23 = s_bar * _t22
        _t24 = _t23 * _t8
        # line 40: for k in range(len(w)):
        for k in reversed(range(_t2)):
            # line 41: z += w[k] * X[i][k]
            _t3 = w[k]
            _t4 = X[i]
            _t5 = _t4[k]
            _t4_bar = X_bar[i]
            _t3_bar = _t24 * _t5
            _t5_bar = _t24 * _t3
            _t4_bar[k] += _t5_bar
            w_bar[k] += _t3_bar
        # line 39: z = b
        b_bar += _t24
    return w_bar, b_bar, X_bar, y_bar

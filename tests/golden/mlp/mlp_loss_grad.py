import math


def mlp_loss_grad(W1, b1, W2, b2, X, Y):
    _tape = []
    # line 42: for x, y in zip(X, Y):
    _t1 = len(X)
    _t2 = len(Y)
    _t3 = _t2 if _t2 < _t1 else _t1
    _acc_tape = [0.0] * _t3
    _acc_tape_1 = [0.0] * _t3
    _t13_tape = [0.0] * _t3
    _t17_tape = [0.0] * _t3
    for _k in range(_t3):
        x = X[_k]
        y = Y[_k]
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        _acc = []
        _t4 = len(W1)
        for j in range(_t4):
            _t5 = b1[j]
            _t6 = len(x)
            _t7 = W1[j]
            _acc_2 = 0
            for k in range(_t6):
                _t8 = _t7[k]
                _t9 = x[k]
                _t10 = _t8 * _t9
                _acc_2 += _t10
            # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
            _t11 = _t5 + _acc_2
            _t12 = math.tanh(_t11)
            _acc.append(_t12)
            _tape.append(_t12)
        # line 45: for j in range(len(hidden)):
        _t13 = len(_acc)
        out = b2
        for j in range(_t13):
            # line 46: out += W2[j] * hidden[j]
            _t14 = W2[j]
            _t15 = _acc[j]
            _t16 = _t14 * _t15
            out += _t16
        # line 47: total += (out - y) ** 2
        _t17 = out - y
        # line 42: for x, y in zip(X, Y):
        _acc_tape[_k] = _acc
        _acc_tape_1[_k] = _acc
        _t13_tape[_k] = _t13
        _t17_tape[_k] = _t17
    # line 48: return total / len(X)
    _t18 = len(X)
    # reverse sweep
    # line 38: def mlp_loss(W1: list[list[float]], b1: list[float], W2: list[float], b2: float,
    W1_bar = [[0.0] * len(_row2) for _row2 in W1]
    b1_bar = [0.0] * len(b1)
    W2_bar = [0.0] * len(W2)
    X_bar = [[0.0] * len(_row2) for _row2 in X]
    Y_bar = [0.0] * len(Y)
    # line 48: return total / len(X)
    total_bar = 1 / _t18
    # line 42: for x, y in zip(X, Y):
    b2_bar = 0.0
    for _k in reversed(range(_t3)):
        _acc = _acc_tape[_k]
        hidden = _acc_tape_1[_k]
        _t13 = _t13_tape[_k]
        _t17 = _t17_tape[_k]
        x = X[_k]
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        _t4 = len(W1)
        # line 42: for x, y in zip(X, Y):
        x_bar = X_bar[_k]
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        _acc_bar = [0.0] * len(_acc)
        # line 47: total += (out - y) ** 2
        _t19 = 2.0 * _t17
        _t17_bar = total_bar * _t19
        y_bar = -_t17_bar
        # line 45: for j in range(len(hidden)):
        for j in reversed(range(_t13)):
            # line 46: out += W2[j] * hidden[j]
            _t14 = W2[j]
            _t15 = hidden[j]
            _t14_bar = _t17_bar * _t15
            _t15_bar = _t17_bar * _t14
            _acc_bar[j] += _t15_bar
            W2_bar[j] += _t14_bar
        # line 44: out = b2
        b2_bar += _t17_bar
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        for j in reversed(range(_t4)):
            _t12 = _tape.pop()
            _t6 = len(x)
            _t12_bar = _acc_bar.pop()
            _t20 = _t12 * _t12
            _t21 = 1.0 - _t20
            _t11_bar = _t12_bar * _t21
            _t7 = W1[j]
            _t7_bar = W1_bar[j]
            for k in reversed(range(_t6)):
                _t8 = _t7[k]
                _t9 = x[k]
                _t8_bar = _t11_bar * _t9
                _t9_bar = _t11_bar * _t8
                x_bar[k] += _t9_bar
                _t7_bar[k] += _t8_bar
            # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
            b1_bar[j] += _t11_bar
        # line 42: for x, y in zip(X, Y):
        Y_bar[_k] += y_bar
    return W1_bar, b1_bar, W2_bar, b2_bar, X_bar, Y_bar

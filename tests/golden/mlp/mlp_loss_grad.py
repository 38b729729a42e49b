import math


def mlp_loss_grad(W1, b1, W2, b2, X, Y):
    # line 42: for x, y in zip(X, Y):
    _t1 = len(X)
    _t2 = len(Y)
    _t3 = _t2 if _t2 < _t1 else _t1
    # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
    _t7 = len(W1)
    # line 42: for x, y in zip(X, Y):
    hidden_tape = [0.0] * _t3
    _t17_tape = [0.0] * _t3
    _t22_tape = [0.0] * _t3
    for _k in range(_t3):
        x = X[_k]
        y = Y[_k]
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        hidden = []
        _t9 = len(x)
        for j in range(_t7):
            _t8 = b1[j]
            _t10 = W1[j]
            _acc = 0
            for k in range(_t9):
                _acc += _t10[k] * x[k]
            _t15 = _t8 + _acc
            hidden.append(math.tanh(_t15))
        # line 45: for j in range(len(hidden)):
        _t17 = len(hidden)
        # line 44: out = b2
        out = b2
        # line 45: for j in range(len(hidden)):
        for j in range(_t17):
            # line 46: out += W2[j] * hidden[j]
            out += W2[j] * hidden[j]
        # line 47: total += (out - y) ** 2
        _t22 = out - y
        _t23 = _t22 ** 2  # read by nothing: raises where the function does
        # line 42: for x, y in zip(X, Y):
        hidden_tape[_k] = hidden
        _t17_tape[_k] = _t17
        _t22_tape[_k] = _t22
    # reverse sweep
    # line 38: def mlp_loss(W1: list[list[float]], b1: list[float], W2: list[float], b2: float,
    W1_bar = [[0.0] * len(_row2) for _row2 in W1]
    b1_bar = [0.0] * len(b1)
    W2_bar = [0.0] * len(W2)
    X_bar = [[0.0] * len(_row2) for _row2 in X]
    Y_bar = [0.0] * len(Y)
    # line 48: return total / len(X)
    total_bar = 1 / _t1
    # line 42: for x, y in zip(X, Y):
    b2_bar = 0.0
    for _k in reversed(range(_t3)):
        hidden = hidden_tape[_k]
        _t17 = _t17_tape[_k]
        _t22 = _t22_tape[_k]
        x = X[_k]
        x_bar = X_bar[_k]
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        hidden_bar = [0.0] * len(hidden)
        # line 47: total += (out - y) ** 2
        _t22_bar = total_bar * (2.0 * _t22)
        y_bar = -_t22_bar
        # line 45: for j in range(len(hidden)):
        for j in range(_t17):
            # line 46: out += W2[j] * hidden[j]
            _t18 = W2[j]
            _t18_bar = _t22_bar * hidden[j]
            hidden_bar[j] += _t22_bar * _t18
            W2_bar[j] += _t18_bar
        # line 44: out = b2
        b2_bar += _t22_bar
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        _t9 = len(x)
        for j in range(_t7):
            _t16 = hidden[j]
            _t15_bar = hidden_bar[j] * (1.0 - _t16 * _t16)
            _t10 = W1[j]
            _t10_bar = W1_bar[j]
            for k in range(_t9):
                _t11 = _t10[k]
                _t11_bar = _t15_bar * x[k]
                x_bar[k] += _t15_bar * _t11
                _t10_bar[k] += _t11_bar
            b1_bar[j] += _t15_bar
        # line 42: for x, y in zip(X, Y):
        Y_bar[_k] += y_bar
    return W1_bar, b1_bar, W2_bar, b2_bar, X_bar, Y_bar

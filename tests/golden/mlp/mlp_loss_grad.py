import math


def mlp_loss_grad(W1, b1, W2, b2, X, Y):
    _tape = []
    # line 42: for x, y in zip(X, Y):
    _t1 = len(X)
    _t2 = len(Y)
    _t3 = _t2 if _t2 < _t1 else _t1
    # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
    _t4 = len(W1)
    # line 42: for x, y in zip(X, Y):
    hidden_tape = [0.0] * _t3
    _t10_tape = [0.0] * _t3
    _t11_tape = [0.0] * _t3
    for _k in range(_t3):
        x = X[_k]
        y = Y[_k]
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        hidden = []
        _t5 = len(x)
        for j in range(_t4):
            _t6 = b1[j]
            _t7 = W1[j]
            _acc = 0
            for k in range(_t5):
                _acc += _t7[k] * x[k]
            _t8 = _t6 + _acc
            _t9 = math.tanh(_t8)
            hidden.append(_t9)
            _tape.append(_t9)
        # line 45: for j in range(len(hidden)):
        _t10 = len(hidden)
        # line 44: out = b2
        out = b2
        # line 45: for j in range(len(hidden)):
        for j in range(_t10):
            # line 46: out += W2[j] * hidden[j]
            out += W2[j] * hidden[j]
        # line 47: total += (out - y) ** 2
        _t11 = out - y
        # line 42: for x, y in zip(X, Y):
        hidden_tape[_k] = hidden
        _t10_tape[_k] = _t10
        _t11_tape[_k] = _t11
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
        _t10 = _t10_tape[_k]
        _t11 = _t11_tape[_k]
        x = X[_k]
        x_bar = X_bar[_k]
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        hidden_bar = [0.0] * len(hidden)
        # line 47: total += (out - y) ** 2
        _t11_bar = total_bar * (2.0 * _t11)
        y_bar = -_t11_bar
        # line 45: for j in range(len(hidden)):
        for j in range(_t10):
            # line 46: out += W2[j] * hidden[j]
            _t12 = W2[j]
            _t12_bar = _t11_bar * hidden[j]
            hidden_bar[j] += _t11_bar * _t12
            W2_bar[j] += _t12_bar
        # line 44: out = b2
        b2_bar += _t11_bar
        # line 43: hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        _t5 = len(x)
        for j in reversed(range(_t4)):
            _t9 = _tape.pop()
            _t9_bar = hidden_bar.pop()
            _t8_bar = _t9_bar * (1.0 - _t9 * _t9)
            _t7 = W1[j]
            _t7_bar = W1_bar[j]
            for k in range(_t5):
                _t13 = _t7[k]
                _t13_bar = _t8_bar * x[k]
                x_bar[k] += _t8_bar * _t13
                _t7_bar[k] += _t13_bar
            b1_bar[j] += _t8_bar
        # line 42: for x, y in zip(X, Y):
        Y_bar[_k] += y_bar
    return W1_bar, b1_bar, W2_bar, b2_bar, X_bar, Y_bar

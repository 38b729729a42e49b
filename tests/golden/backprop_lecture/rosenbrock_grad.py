def rosenbrock_grad(x, y):
    # line 66: return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    _t1 = 1 - x
    _t3 = x ** 2
    _t4 = y - _t3
    # reverse sweep
    # line 66: return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    _t8 = 2 * _t4
    _t4_bar = 100.0 * _t8
    _t3_bar = -_t4_bar
    _t12 = 2 * x
    x_bar = _t3_bar * _t12
    _t1_bar = 2 * _t1
    x_bar -= _t1_bar
    return x_bar, _t4_bar

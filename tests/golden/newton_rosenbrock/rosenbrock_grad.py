def rosenbrock_grad(x, y):
    # line 38: return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    _t1 = 1.0 - x
    _t2 = x * x
    _t3 = y - _t2
    # reverse sweep
    # line 38: return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    _t3_bar = 200.0 * _t3
    _t4 = -2.0 * x
    x_bar = _t3_bar * _t4
    _t1_bar = 2.0 * _t1
    x_bar -= _t1_bar
    return x_bar, _t3_bar

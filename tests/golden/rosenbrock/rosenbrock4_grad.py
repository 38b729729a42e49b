def rosenbrock4_grad(x1, x2, x3, x4):
    # line 36: first = B * (x2 - x1**2) ** 2 + (1 - x1) ** 2
    _t1 = x2 - x1 * x1
    _t2 = 1.0 - x1
    # line 37: second = B * (x3 - x2**2) ** 2 + (1 - x2) ** 2
    _t3 = x3 - x2 * x2
    _t4 = 1.0 - x2
    # line 38: third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    _t5 = x4 - x3 * x3
    # reverse sweep
    # line 38: third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    _t6 = -2.0 * (1.0 - x3)
    x4_bar = B * (2.0 * _t5)
    x3_bar = _t6 + x4_bar * (-2.0 * x3)
    # line 37: second = B * (x3 - x2**2) ** 2 + (1 - x2) ** 2
    _t7 = -2.0 * _t4
    _t3_bar = B * (2.0 * _t3)
    x3_bar += _t3_bar
    x2_bar = _t7 + _t3_bar * (-2.0 * x2)
    # line 36: first = B * (x2 - x1**2) ** 2 + (1 - x1) ** 2
    _t8 = -2.0 * _t2
    _t1_bar = B * (2.0 * _t1)
    x2_bar += _t1_bar
    x1_bar = _t8 + _t1_bar * (-2.0 * x1)
    return x1_bar, x2_bar, x3_bar, x4_bar

def rosenbrock4_grad(x1, x2, x3, x4):
    # line 36: first = B * (x2 - x1**2) ** 2 + (1 - x1) ** 2
    _t2 = x2 - x1 * x1
    _t5 = 1.0 - x1
    # line 37: second = B * (x3 - x2**2) ** 2 + (1 - x2) ** 2
    _t9 = x3 - x2 * x2
    _t12 = 1.0 - x2
    # line 38: third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    _t16 = x4 - x3 * x3
    # reverse sweep
    # line 38: third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    _t7 = -2.0 * (1.0 - x3)
    x4_bar = B * (2.0 * _t16)
    x3_bar = _t7 + x4_bar * (-2.0 * x3)
    # line 37: second = B * (x3 - x2**2) ** 2 + (1 - x2) ** 2
    _t14 = -2.0 * _t12
    _t9_bar = B * (2.0 * _t9)
    x3_bar += _t9_bar
    x2_bar = _t14 + _t9_bar * (-2.0 * x2)
    # line 36: first = B * (x2 - x1**2) ** 2 + (1 - x1) ** 2
    _t24 = -2.0 * _t5
    _t2_bar = B * (2.0 * _t2)
    x2_bar += _t2_bar
    x1_bar = _t24 + _t2_bar * (-2.0 * x1)
    return x1_bar, x2_bar, x3_bar, x4_bar

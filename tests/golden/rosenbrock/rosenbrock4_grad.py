def rosenbrock4_grad(x1, x2, x3, x4):
    # line 36: first = B * (x2 - x1**2) ** 2 + (1 - x1) ** 2
    _t1 = x1 * x1
    _t2 = x2 - _t1
    _t3 = 1.0 - x1
    # line 37: second = B * (x3 - x2**2) ** 2 + (1 - x2) ** 2
    _t4 = x2 * x2
    _t5 = x3 - _t4
    _t6 = 1.0 - x2
    # line 38: third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    _t7 = x3 * x3
    _t8 = x4 - _t7
    _t9 = 1.0 - x3
    # reverse sweep
    # line 38: third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    _t10 = -2.0 * _t9
    _t8_bar = 200.0 * _t8
    _t11 = -2.0 * x3
    _t12 = _t8_bar * _t11
    x3_bar = _t10 + _t12
    # line 37: second = B * (x3 - x2**2) ** 2 + (1 - x2) ** 2
    _t13 = -2.0 * _t6
    _t5_bar = 200.0 * _t5
    x3_bar += _t5_bar
    _t14 = -2.0 * x2
    _t15 = _t5_bar * _t14
    x2_bar = _t13 + _t15
    # line 36: first = B * (x2 - x1**2) ** 2 + (1 - x1) ** 2
    _t16 = -2.0 * _t3
    _t2_bar = 200.0 * _t2
    x2_bar += _t2_bar
    _t17 = -2.0 * x1
    _t18 = _t2_bar * _t17
    x1_bar = _t16 + _t18
    return x1_bar, x2_bar, x3_bar, _t8_bar

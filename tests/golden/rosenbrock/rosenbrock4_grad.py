def rosenbrock4_grad(x1, x2, x3, x4):
    # line 36: first = B * (x2 - x1**2) ** 2 + (1 - x1) ** 2
    _t2 = x2 - x1 ** 2
    _t3 = _t2 ** 2  # read by nothing: raises where the function does
    _t5 = 1.0 - x1
    _t6 = _t5 ** 2  # read by nothing: raises where the function does
    # line 37: second = B * (x3 - x2**2) ** 2 + (1 - x2) ** 2
    _t9 = x3 - x2 ** 2
    _t10 = _t9 ** 2  # read by nothing: raises where the function does
    _t12 = 1.0 - x2
    _t13 = _t12 ** 2  # read by nothing: raises where the function does
    # line 38: third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    _t16 = x4 - x3 ** 2
    _t17 = _t16 ** 2  # read by nothing: raises where the function does
    _t19 = 1.0 - x3
    _t20 = _t19 ** 2  # read by nothing: raises where the function does
    # reverse sweep
    # line 38: third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    _t7 = -2.0 * _t19
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

def quartic_grad(x):
    # line 45: return (x**2 + 3) ** 4
    _t1 = x * x
    _t2 = _t1 + 3.0
    # reverse sweep
    # line 45: return (x**2 + 3) ** 4
    _t3 = _t2 ** 3
    _t2_bar = 4.0 * _t3
    _t4 = 2.0 * x
    x_bar = _t2_bar * _t4
    return x_bar

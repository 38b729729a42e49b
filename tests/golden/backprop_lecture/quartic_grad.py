def quartic_grad(x):
    # line 45: return (x**2 + 3) ** 4
    _t2 = x ** 2 + 3.0
    _t3 = _t2 ** 4  # read by nothing: raises where the function does
    # reverse sweep
    # line 45: return (x**2 + 3) ** 4
    x_bar = 4.0 * _t2 ** 3 * (2.0 * x)
    return x_bar

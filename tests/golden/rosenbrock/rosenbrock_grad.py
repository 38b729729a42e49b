def rosenbrock_grad(x, y):
    # line 31: return (A - x) ** 2 + B * (y - x**2) ** 2
    _t1 = A - x
    _t2 = _t1 ** 2  # read by nothing: raises where the function does
    _t4 = y - x ** 2
    _t5 = _t4 ** 2  # read by nothing: raises where the function does
    # reverse sweep
    # line 31: return (A - x) ** 2 + B * (y - x**2) ** 2
    y_bar = B * (2.0 * _t4)
    x_bar = y_bar * (-2.0 * x)
    x_bar -= 2.0 * _t1
    return x_bar, y_bar

def rosenbrock_grad(x, y):
    # line 38: return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    _t1 = 1.0 - x
    _t2 = _t1 ** 2  # read by nothing: raises where the function does
    _t4 = y - x ** 2
    _t5 = _t4 ** 2  # read by nothing: raises where the function does
    # reverse sweep
    # line 38: return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    y_bar = 200.0 * _t4
    x_bar = y_bar * (-2.0 * x)
    x_bar -= 2.0 * _t1
    return x_bar, y_bar

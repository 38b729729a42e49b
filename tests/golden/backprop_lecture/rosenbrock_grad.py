def rosenbrock_grad(x, y):
    # line 66: return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    _t1 = 1.0 - x
    # reverse sweep
    # line 66: return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    y_bar = 200.0 * (y - x * x)
    x_bar = y_bar * (-2.0 * x)
    x_bar -= 2.0 * _t1
    return x_bar, y_bar

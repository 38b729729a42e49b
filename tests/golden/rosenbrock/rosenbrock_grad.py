def rosenbrock_grad(x, y):
    # line 31: return (A - x) ** 2 + B * (y - x**2) ** 2
    _t1 = A - x
    # reverse sweep
    # line 31: return (A - x) ** 2 + B * (y - x**2) ** 2
    y_bar = B * (2.0 * (y - x * x))
    x_bar = y_bar * (-2.0 * x)
    x_bar -= 2.0 * _t1
    return x_bar, y_bar

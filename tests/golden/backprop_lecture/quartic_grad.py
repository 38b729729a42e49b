def quartic_grad(x):
    # reverse sweep
    # line 45: return (x**2 + 3) ** 4
    x_bar = 4.0 * (x * x + 3.0) ** 3 * (2.0 * x)
    return x_bar

def cube_then_square_grad(x):
    # line 60: z = x**3
    z = x ** 3
    # line 61: return z**2
    _t2 = z ** 2  # read by nothing: raises where the function does
    # reverse sweep
    # line 61: return z**2
    z_bar = 2.0 * z
    # line 60: z = x**3
    x_bar = z_bar * (3.0 * (x * x))
    return x_bar

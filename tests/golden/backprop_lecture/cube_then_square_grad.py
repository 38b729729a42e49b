def cube_then_square_grad(x):
    # line 60: z = x**3
    z = x ** 3
    # reverse sweep
    # line 61: return z**2
    z_bar = 2.0 * z
    # line 60: z = x**3
    _t1 = x * x
    _t2 = 3.0 * _t1
    x_bar = z_bar * _t2
    return x_bar

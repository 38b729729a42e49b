import math


def exp_sin_square_grad(x):
    # line 50: return math.exp(math.sin(x**2))
    _t1 = x ** 2
    # reverse sweep
    # line 50: return math.exp(math.sin(x**2))
    x_bar = math.exp(math.sin(_t1)) * math.cos(_t1) * (2.0 * x)
    return x_bar

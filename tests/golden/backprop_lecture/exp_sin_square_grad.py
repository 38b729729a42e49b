import math


def exp_sin_square_grad(x):
    # line 50: return math.exp(math.sin(x**2))
    _t1 = x * x
    _t2 = math.sin(_t1)
    _t3 = math.exp(_t2)
    # reverse sweep
    # line 50: return math.exp(math.sin(x**2))
    _t4 = math.cos(_t1)
    _t1_bar = _t3 * _t4
    _t5 = 2.0 * x
    x_bar = _t1_bar * _t5
    return x_bar

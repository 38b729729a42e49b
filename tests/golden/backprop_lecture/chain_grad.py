import math


def chain_grad(x, y, z):
    # line 40: return z + math.sin(x**2 + y * math.exp(z))
    _t1 = x ** 2
    _t2 = math.exp(z)
    _t4 = _t1 + y * _t2
    # reverse sweep
    # line 40: return z + math.sin(x**2 + y * math.exp(z))
    _t4_bar = math.cos(_t4)
    y_bar = _t4_bar * _t2
    z_bar = 1.0 + _t4_bar * y * _t2
    x_bar = _t4_bar * (2.0 * x)
    return x_bar, y_bar, z_bar

def circuit_grad(x, y, z):
    # line 27: return (x + y) * max(y, z)
    _t1 = x + y
    _t2 = z if z > y else y
    # reverse sweep
    # line 27: return (x + y) * max(y, z)
    _t3 = 1.0 if y > z else 0.5 if y == z else 0.0
    _t4 = 1.0 - _t3
    y_bar = _t1 * _t3
    z_bar = _t1 * _t4
    y_bar += _t2
    return _t2, y_bar, z_bar

def circuit_grad(x, y, z):
    # line 27: return (x + y) * max(y, z)
    _t1 = x + y
    _t2 = z if z > y else y
    # reverse sweep
    # line 27: return (x + y) * max(y, z)
    y_bar = _t1 if y > z else 0.5 * _t1 if y == z else _t1 * 0.0
    z_bar = _t1 * 0.0 if y > z else 0.5 * _t1 if y == z else _t1
    y_bar += _t2
    # line 25: def circuit(x: float, y: float, z: float) -> float:
    x_bar = float(_t2)
    y_bar = float(y_bar)
    z_bar = float(z_bar)
    return x_bar, y_bar, z_bar

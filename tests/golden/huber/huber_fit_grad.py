def huber_fit_grad(a, b, xs, ys):
    # line 45: for x, y in zip(xs, ys):
    _t1 = len(xs)
    _t2 = len(ys)
    _t3 = _t2 if _t2 < _t1 else _t1
    # reverse sweep
    # line 42: def huber_fit(a: float, b: float, xs: list[float], ys: list[float]) -> float:
    xs_bar = [0.0] * len(xs)
    ys_bar = [0.0] * len(ys)
    # line 45: for x, y in zip(xs, ys):
    a_bar, b_bar = 0.0, 0.0
    for _k in range(_t3):
        # this iteration again (the loop only accumulates: nothing is taped)
        # line 45: for x, y in zip(xs, ys):
        x = xs[_k]
        y = ys[_k]
        # line 46: total += huber(a * x + b - y, 1.0)
        _t8 = a * x + b - y
        # line 36: if abs(r) <= delta:
        if abs(_t8) <= 1.0:
            # line 37: return 0.5 * r * r
            _t8_bar = 0.5 * _t8 + _t8 * 0.5
        else:
            # line 39: return delta * (abs(r) - 0.5 * delta)
            _t8_bar = 1.0 if _t8 > 0 else -1.0 if _t8 < 0 else 0.0
        # line 46: total += huber(a * x + b - y, 1.0)
        y_bar = -_t8_bar
        b_bar += _t8_bar
        a_bar += _t8_bar * x
        x_bar = _t8_bar * a
        # line 45: for x, y in zip(xs, ys):
        ys_bar[_k] += y_bar
        xs_bar[_k] += x_bar
    return a_bar, b_bar, xs_bar, ys_bar

def huber_grad(r, delta):
    # line 36: if abs(r) <= delta:
    _t1 = abs(r)
    _t2 = _t1 <= delta
    if _t2:
        # line 37: return 0.5 * r * r
        _t3 = 0.5 * r
    else:
        # line 39: return delta * (abs(r) - 0.5 * delta)
        _t7 = _t1 - 0.5 * delta
    # reverse sweep
    # line 36: if abs(r) <= delta:
    if _t2:
        # line 37: return 0.5 * r * r
        r_bar = _t3 + r * 0.5
        delta_bar = 0.0
    else:
        # line 39: return delta * (abs(r) - 0.5 * delta)
        delta_bar = _t7 - delta * 0.5
        r_bar = delta if r > 0 else -delta if r < 0 else delta * 0.0
    # line 34: def huber(r: float, delta: float) -> float:
    r_bar = float(r_bar)
    return r_bar, delta_bar

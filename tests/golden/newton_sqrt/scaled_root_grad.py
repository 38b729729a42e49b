def scaled_root_grad(a, c):
    _tape = []
    # line 33: x = a if a > 1.0 else 1.0
    _t1 = a > 1.0
    x = a if _t1 else 1.0
    # line 34: while abs(x * x - a) > TOLERANCE * a:
    _n = 0
    while abs(x * x - a) > TOLERANCE * a:
        # line 35: x = 0.5 * (x + a / x)
        _t9 = x + a / x
        x_2 = 0.5 * _t9
        # line 34: while abs(x * x - a) > TOLERANCE * a:
        _tape.append(x)
        _n += 1
        x = x_2
    # reverse sweep
    # line 34: while abs(x * x - a) > TOLERANCE * a:
    x_bar, a_bar_1 = c, 1.0
    for _ in range(_n):
        x_2 = _tape.pop()
        # line 35: x = 0.5 * (x + a / x)
        _t8 = a / x_2
        _t9_bar = x_bar * 0.5
        _t13 = 1.0 / x_2
        _t15 = _t8 / x_2
        a_bar_1 += _t9_bar * _t13
        x_bar = _t9_bar - _t9_bar * _t15
    # line 33: x = a if a > 1.0 else 1.0
    if _t1:
        a_bar = a_bar_1 + x_bar
    else:
        a_bar = a_bar_1
    # line 39: def scaled_root(a: float, c: float) -> float:
    c_bar = float(x)
    return a_bar, c_bar

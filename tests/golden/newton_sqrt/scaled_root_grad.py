def scaled_root_grad(a, c):
    _tape = []
    # line 33: x = a if a > 1.0 else 1.0
    _t1 = a > 1.0
    x = a if _t1 else 1.0
    # line 34: while abs(x * x - a) > TOLERANCE * a:
    _n = 0
    while abs(x * x - a) > 1e-12 * a:
        # line 35: x = 0.5 * (x + a / x)
        _t7 = a / x
        _t8 = x + _t7
        x_2 = 0.5 * _t8
        # line 34: while abs(x * x - a) > TOLERANCE * a:
        _tape.append((x, _t7))
        _n += 1
        x = x_2
    # reverse sweep
    # line 34: while abs(x * x - a) > TOLERANCE * a:
    a_bar = 1.0
    for _ in range(_n):
        x_2, _t7 = _tape.pop()
        # line 35: x = 0.5 * (x + a / x)
        _t8_bar = c * 0.5
        _t9 = 1 / x_2
        _t10 = -_t7
        _t11 = _t10 / x_2
        _t12 = _t8_bar * _t9
        a_bar += _t12
        _t13 = _t8_bar * _t11
        c = _t8_bar + _t13
    # line 33: x = a if a > 1.0 else 1.0
    if _t1:
        a_bar_3 = a_bar + c
    else:
        a_bar_3 = a_bar
    return a_bar_3, x

def newton_sqrt_grad(a):
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
    x_bar, a_bar_1 = 1.0, 0.0
    for _ in range(_n):
        x = _tape.pop()
        # line 35: x = 0.5 * (x + a / x)
        _t8 = a / x
        _t9_bar = x_bar * 0.5
        _t11 = 1.0 / x
        _t13 = _t8 / x
        a_bar_1 += _t9_bar * _t11
        x_bar = _t9_bar - _t9_bar * _t13
    # line 33: x = a if a > 1.0 else 1.0
    if _t1:
        a_bar = a_bar_1 + x_bar
    else:
        a_bar = a_bar_1
    return a_bar

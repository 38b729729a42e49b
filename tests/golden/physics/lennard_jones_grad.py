import math


def lennard_jones_grad(x1, y1, x2, y2):
    # line 45: r = math.hypot(x2 - x1, y2 - y1)
    _t1 = x2 - x1
    _t2 = y2 - y1
    r = math.hypot(_t1, _t2)
    # line 46: s6 = (SIGMA / r) ** 6
    _t4 = SIGMA / r
    s6 = _t4 ** 6
    # line 47: return 4 * EPSILON * (s6**2 - s6)
    _t6 = 4.0 * EPSILON
    _t7 = s6 ** 2  # read by nothing: raises where the function does
    # reverse sweep
    # line 47: return 4 * EPSILON * (s6**2 - s6)
    s6_bar = _t6 * (2.0 * s6) - _t6
    # line 46: s6 = (SIGMA / r) ** 6
    r_bar = s6_bar * (-6.0 * _t4 ** 5) * (_t4 / r)
    # line 45: r = math.hypot(x2 - x1, y2 - y1)
    _t19 = _t1 / r if r > 0 else 0.0
    _t20 = _t2 / r if r > 0 else 0.0
    x2_bar = r_bar * _t19
    y2_bar = r_bar * _t20
    y1_bar = -y2_bar
    x1_bar = -x2_bar
    return x1_bar, y1_bar, x2_bar, y2_bar

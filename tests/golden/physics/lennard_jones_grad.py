import math


def lennard_jones_grad(x1, y1, x2, y2):
    # line 45: r = math.hypot(x2 - x1, y2 - y1)
    _t1 = x2 - x1
    _t2 = y2 - y1
    r = math.hypot(_t1, _t2)
    # line 46: s6 = (SIGMA / r) ** 6
    _t4 = 3.405 / r
    s6 = _t4 ** 6
    # reverse sweep
    # line 47: return 4 * EPSILON * (s6**2 - s6)
    _t3 = 2 * s6
    _t10 = 479.2 * _t3
    s6_bar = -479.2 + _t10
    # line 46: s6 = (SIGMA / r) ** 6
    _t11 = _t4 ** 5
    _t12 = 6 * _t11
    _t4_bar = s6_bar * _t12
    _t17 = -_t4
    _t18 = _t17 / r
    r_bar = _t4_bar * _t18
    # line 45: r = math.hypot(x2 - x1, y2 - y1)
    _t20 = _t1 / r
    _t21 = _t2 / r
    _t1_bar = r_bar * _t20
    _t2_bar = r_bar * _t21
    y1_bar = -_t2_bar
    x1_bar = -_t1_bar
    return x1_bar, y1_bar, _t1_bar, _t2_bar

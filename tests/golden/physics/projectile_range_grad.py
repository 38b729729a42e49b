import math


def projectile_range_grad(v, theta, g):
    # line 40: return v**2 * math.sin(2 * theta) / g
    _t1 = v ** 2
    _t2 = 2.0 * theta
    _t3 = math.sin(_t2)
    _t5 = _t1 * _t3 / g
    # reverse sweep
    # line 40: return v**2 * math.sin(2 * theta) / g
    _t6 = 1.0 / g
    g_bar = -_t5 / g
    _t1_bar = _t6 * _t3
    theta_bar = _t6 * _t1 * math.cos(_t2) * 2.0
    v_bar = _t1_bar * (2.0 * v)
    return v_bar, theta_bar, g_bar

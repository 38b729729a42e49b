import math


def projectile_range_grad(v, theta, g):
    # line 40: return v**2 * math.sin(2 * theta) / g
    _t1 = v * v
    _t2 = 2.0 * theta
    _t3 = math.sin(_t2)
    _t4 = _t1 * _t3
    _t5 = _t4 / g
    # reverse sweep
    # line 40: return v**2 * math.sin(2 * theta) / g
    _t6 = 1.0 / g
    _t7 = -_t5
    g_bar = _t7 / g
    _t1_bar = _t6 * _t3
    _t3_bar = _t6 * _t1
    _t8 = math.cos(_t2)
    _t2_bar = _t3_bar * _t8
    theta_bar = _t2_bar * 2.0
    _t9 = 2.0 * v
    v_bar = _t1_bar * _t9
    return v_bar, theta_bar, g_bar

import math


def planck_grad(wavelength, temperature):
    # line 52: x = H * C / (wavelength * K * temperature)
    _t1 = wavelength * 1.380649e-23
    _t2 = _t1 * temperature
    x = 1.9864458571489286e-25 / _t2
    # line 53: return 2 * H * C**2 / wavelength**5 / math.expm1(x)
    _t4 = wavelength ** 5
    _t5 = 1.1910429723971884e-16 / _t4
    _t6 = math.expm1(x)
    _t7 = _t5 / _t6
    # reverse sweep
    # line 53: return 2 * H * C**2 / wavelength**5 / math.expm1(x)
    _t3 = 1 / _t6
    _t8 = -_t7
    _t6_bar = _t8 / _t6
    _t10 = _t6 + 1
    x_bar = _t6_bar * _t10
    _t13 = -_t5
    _t14 = _t13 / _t4
    _t4_bar = _t3 * _t14
    _t16 = wavelength ** 4
    _t17 = 5 * _t16
    wavelength_bar = _t4_bar * _t17
    # line 52: x = H * C / (wavelength * K * temperature)
    _t22 = -x
    _t23 = _t22 / _t2
    _t2_bar = x_bar * _t23
    _t1_bar = _t2_bar * temperature
    temperature_bar = _t2_bar * _t1
    _t27 = _t1_bar * 1.380649e-23
    wavelength_bar += _t27
    return wavelength_bar, temperature_bar

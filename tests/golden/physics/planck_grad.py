import math


def planck_grad(wavelength, temperature):
    # line 52: x = H * C / (wavelength * K * temperature)
    _t1 = wavelength * 1.380649e-23
    _t2 = _t1 * temperature
    x = 1.9864458571489286e-25 / _t2
    # line 53: return 2 * H * C**2 / wavelength**5 / math.expm1(x)
    _t3 = wavelength ** 5
    _t4 = 1.1910429723971884e-16 / _t3
    _t5 = math.expm1(x)
    _t6 = _t4 / _t5
    # reverse sweep
    # line 53: return 2 * H * C**2 / wavelength**5 / math.expm1(x)
    _t7 = -1.0 / _t5
    _t8 = _t6 / _t5 * math.exp(x)
    wavelength_bar = _t7 * (_t4 / _t3) * (5.0 * wavelength ** 4)
    # line 52: x = H * C / (wavelength * K * temperature)
    _t2_bar = _t8 * (x / _t2)
    _t1_bar = _t2_bar * temperature
    temperature_bar = _t2_bar * _t1
    wavelength_bar += _t1_bar * 1.380649e-23
    return wavelength_bar, temperature_bar

import math


def planck_grad(wavelength, temperature):
    # line 52: x = H * C / (wavelength * K * temperature)
    _t1 = H * C
    _t2 = wavelength * K
    _t3 = _t2 * temperature
    x = _t1 / _t3
    # line 53: return 2 * H * C**2 / wavelength**5 / math.expm1(x)
    _t7 = 2.0 * H * C ** 2
    _t8 = wavelength ** 5
    _t9 = _t7 / _t8
    _t10 = math.expm1(x)
    _t11 = _t9 / _t10
    # reverse sweep
    # line 53: return 2 * H * C**2 / wavelength**5 / math.expm1(x)
    _t4 = -1.0 / _t10
    _t16 = _t11 / _t10 * math.exp(x)
    wavelength_bar = _t4 * (_t9 / _t8) * (5.0 * wavelength ** 4)
    # line 52: x = H * C / (wavelength * K * temperature)
    _t3_bar = _t16 * (x / _t3)
    _t2_bar = _t3_bar * temperature
    temperature_bar = _t3_bar * _t2
    wavelength_bar += _t2_bar * K
    return wavelength_bar, temperature_bar

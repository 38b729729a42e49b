import math


def three_inputs_grad(x1, x2, x3):
    # line 55: return x1**2 * x2 + math.cos(x3)
    _t1 = x1 ** 2
    # reverse sweep
    # line 55: return x1**2 * x2 + math.cos(x3)
    x3_bar = -math.sin(x3)
    x1_bar = x2 * (2.0 * x1)
    # line 53: def three_inputs(x1: float, x2: float, x3: float) -> float:
    x2_bar = float(_t1)
    return x1_bar, x2_bar, x3_bar

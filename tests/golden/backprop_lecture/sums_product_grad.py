def sums_product_grad(a, b):
    # line 32: c = a + b
    c = a + b
    # line 33: d = b + 1
    d = b + 1.0
    # reverse sweep
    # line 32: c = a + b
    b_bar = c + d
    # line 30: def sums_product(a: float, b: float) -> float:
    a_bar = d
    return a_bar, b_bar

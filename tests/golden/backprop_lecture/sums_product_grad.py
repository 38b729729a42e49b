def sums_product_grad(a, b):
    # line 32: c = a + b
    c = a + b
    # line 33: d = b + 1
    d = b + 1.0
    # reverse sweep
    # line 32: c = a + b
    b_bar = c + d
    return d, b_bar

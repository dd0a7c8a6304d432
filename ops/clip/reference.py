"""clip: the numpy reference and the cases every framework is tested with."""

import numpy as np

DTYPES = ("float32", "float16")
TOLERANCE = 0  # exact in every dtype
SHAPES = [(0,), (1,), (7,), (3, 5), (2, 0, 3), (2, 3, 4), (300_001,)]  # the last: parallel path


def clip(x, lo, hi):
    # In float32: lo and hi are float32 attributes in every framework.
    y = np.minimum(np.maximum(x.astype(np.float32), np.float32(lo)), np.float32(hi))
    return y.astype(x.dtype)


def cases(values):
    """(inputs, attributes) pairs; values(shape, dtype) makes random data."""
    for dtype in DTYPES:
        for shape in SHAPES:
            x = values(shape, dtype)
            if x.size > 3:  # NaN and the bounds themselves must pass through
                x.flat[:3] = [np.nan, -1.5, 2.0]
            yield [x], {"lo": -1.5, "hi": 2.0}

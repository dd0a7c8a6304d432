"""modulo: the numpy reference (C fmod, sign of a; integer x % 0 is 0) and
the cases every framework is tested with."""

import numpy as np

DTYPES = ("float32", "int32")
TOLERANCE = 0
SHAPES = [(0,), (1,), (7,), (3, 5), (2, 0, 3), (2, 3, 4), (300_001,)]


def modulo(a, b):
    if np.issubdtype(a.dtype, np.integer):
        # In int64, so INT32_MIN % -1 cannot overflow; a zero divisor gives 0.
        a64, b64 = a.astype(np.int64), b.astype(np.int64)
        safe = np.where(b64 == 0, 1, b64)
        return np.where(b64 == 0, 0, np.fmod(a64, safe)).astype(a.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.fmod(a, b)


def cases(values):
    for dtype in DTYPES:
        for shape in SHAPES:
            a, b = values(shape, dtype), values(shape, dtype)
            if b.size > 4:  # zero divisors, negative operands, INT_MIN % -1
                b.flat[:3] = [0, -1, 3]
                if np.dtype(dtype).kind == "i":
                    a.flat[1] = np.iinfo(dtype).min
                a.flat[2] = -7
            yield [a, b], {}

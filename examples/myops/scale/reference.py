"""scale: the numpy reference and its cases (used by `opforge build` checks)."""

import numpy as np

DTYPES = ("float32",)
TOLERANCE = 0


def scale(x, alpha):
    return (x * np.float32(alpha)).astype(x.dtype)


def cases(values):
    for shape in [(0,), (5,), (3, 4)]:
        yield [values(shape, "float32")], {"alpha": 2.5}

"""rms_norm: the numpy reference (in float64) and the cases every framework
is tested with."""

import numpy as np

DTYPES = ("float32", "float16")
TOLERANCE = {"float32": 1e-5, "float16": 2e-3}  # relative and absolute
SHAPES = [(1, 8), (4, 16), (2, 3, 64), (0, 8), (2, 0), (5, 1), (257, 1031)]


def rms_norm(x, weight, epsilon=1e-6):
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_sq = np.mean(x64 * x64, axis=-1, keepdims=True) if x.shape[-1] else np.zeros(x.shape[:-1] + (1,))
        inv = 1.0 / np.sqrt(mean_sq + np.float64(np.float32(epsilon)))
        return (x64 * inv * weight.astype(np.float64)).astype(x.dtype)


def cases(values):
    for dtype in DTYPES:
        for shape in SHAPES:
            yield [values(shape, dtype), values(shape[-1:], dtype)], {"epsilon": 1e-5}

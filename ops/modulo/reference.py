"""numpy reference for modulo: C fmod (sign of a); integer x % 0 is 0."""

import numpy as np


def modulo(a, b):
    if np.issubdtype(a.dtype, np.integer):
        # In int64, so INT32_MIN % -1 cannot overflow; a zero divisor gives 0.
        a64, b64 = a.astype(np.int64), b.astype(np.int64)
        safe = np.where(b64 == 0, 1, b64)
        return np.where(b64 == 0, 0, np.fmod(a64, safe)).astype(a.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.fmod(a, b)

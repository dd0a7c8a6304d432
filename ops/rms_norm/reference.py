"""numpy reference for rms_norm, computed in float64."""

import numpy as np


def rms_norm(x, weight, epsilon=1e-6):
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = 1.0 / np.sqrt(np.mean(x64 * x64, axis=-1, keepdims=True) + np.float64(np.float32(epsilon)))
        return (x64 * inv * weight.astype(np.float64)).astype(x.dtype)

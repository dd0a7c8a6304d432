"""numpy reference for clip: min(max(x, lo), hi), NaN propagates."""

import numpy as np


def clip(x, lo, hi):
    # Computed in float32: lo and hi are float32 attributes in every framework.
    y = np.minimum(np.maximum(x.astype(np.float32), np.float32(lo)), np.float32(hi))
    return y.astype(x.dtype)

"""Op cases shared by every framework's tests: inputs, attributes, the numpy
reference from the op's folder, and the tolerance for each dtype.

numpy only, so an older runtime's virtual environment can use it too."""

from __future__ import annotations

import importlib.util
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OPS = ("clip", "zero_out", "modulo", "rms_norm")

DTYPES = {
    "clip": ("float32", "float16"),
    "zero_out": ("int32", "int64"),
    "modulo": ("float32", "int32"),
    "rms_norm": ("float32", "float16"),
}
# Names each framework uses for the same op.
TF_NAMES = {"clip": "opforge_clip", "zero_out": "opforge_zero_out", "modulo": "opforge_modulo",
            "rms_norm": "opforge_rms_norm"}
ORT_TYPES = {"clip": "Clip", "zero_out": "ZeroOut", "modulo": "Modulo", "rms_norm": "RmsNorm"}

# Elementwise shapes: empty, a scalar-like vector, odd sizes, and one large
# enough to take the kernels' parallel path.
ELEMENTWISE_SHAPES = [(0,), (1,), (7,), (3, 5), (2, 0, 3), (2, 3, 4), (300_001,)]
RMS_SHAPES = [(1, 8), (4, 16), (2, 3, 64), (0, 8), (2, 0), (5, 1), (257, 1031)]


def reference(op: str):
    path = REPO / "ops" / op / "reference.py"
    spec = importlib.util.spec_from_file_location(f"opforge_reference_{op}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, op)


@dataclass
class Case:
    op: str
    dtype: str
    inputs: list
    attrs: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        shape = "x".join(map(str, self.inputs[0].shape)) or "scalar"
        return f"{self.op}-{self.dtype}-{shape}"

    def expected(self) -> np.ndarray:
        return reference(self.op)(*self.inputs, **self.attrs)


def _values(rng, shape, dtype):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (rng.standard_normal(shape) * 3).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape, dtype=dt)


def cases(op: str) -> list[Case]:
    rng = np.random.default_rng(zlib.crc32(op.encode()))
    out = []
    for dtype in DTYPES[op]:
        if op == "rms_norm":
            for shape in RMS_SHAPES:
                x = _values(rng, shape, dtype)
                w = _values(rng, shape[-1:], dtype)
                out.append(Case(op, dtype, [x, w], {"epsilon": 1e-5}))
            continue
        for shape in ELEMENTWISE_SHAPES:
            x = _values(rng, shape, dtype)
            if op == "clip":
                if x.size > 3:  # NaN and the bounds themselves must pass through
                    x.flat[:3] = [np.nan, -1.5, 2.0]
                out.append(Case(op, dtype, [x], {"lo": -1.5, "hi": 2.0}))
            elif op == "zero_out":
                out.append(Case(op, dtype, [x]))
            else:
                b = _values(rng, shape, dtype)
                if b.size > 4:  # zero divisors, negative operands, INT_MIN % -1
                    b.flat[:3] = [0, -1, 3]
                    if np.dtype(dtype).kind == "i":
                        x.flat[1] = np.iinfo(dtype).min
                    x.flat[2] = -7
                out.append(Case(op, dtype, [x, b]))
    return out


def all_cases() -> list[Case]:
    return [c for op in OPS for c in cases(op)]


def assert_matches(case: Case, actual: np.ndarray) -> None:
    expected = case.expected()
    actual = np.asarray(actual)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if case.op == "rms_norm":
        tol = 2e-3 if case.dtype == "float16" else 1e-5
        np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)
    else:  # clip, zero_out and fmod are exact in every dtype
        np.testing.assert_array_equal(actual, expected)

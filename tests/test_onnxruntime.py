"""ONNX Runtime library in real ONNX Runtime: the newest runtime here, and
onnxruntime 1.15 (Triton 23.05) in its own virtual environment."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import library, require_framework, results_of, run_python
from opcases import OPS, OPS_DIR, all_cases, assert_matches, onnx_model, run_onnxruntime

ort = require_framework("onnxruntime")
require_framework("onnx")


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_matches_reference(case):
    out = run_onnxruntime(ort, library("onnxruntime"), onnx_model(case, "opforge"), case.inputs)
    assert_matches(case, out)


@pytest.mark.parametrize("case", [c for c in all_cases() if c.inputs[0].size][::5], ids=lambda c: c.id)
def test_matches_reference_on_cuda_provider(case):
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip(f"onnxruntime {ort.__version__} here has no CUDA execution provider")
    out = run_onnxruntime(ort, library("onnxruntime"), onnx_model(case, "opforge"), case.inputs,
                          provider="CUDAExecutionProvider")
    assert_matches(case, out)


def test_non_contiguous_numpy_inputs():
    case = next(c for c in all_cases() if c.op == "rms_norm" and c.inputs[0].ndim == 3)
    views = [np.ascontiguousarray(a.T).T for a in case.inputs]
    assert not views[0].flags.c_contiguous
    assert_matches(case, run_onnxruntime(ort, library("onnxruntime"), onnx_model(case, "opforge"), views))


def test_epsilon_attribute_is_optional():
    case = next(c for c in all_cases() if c.op == "rms_norm" and c.dtype == "float32")
    case.attrs = {}  # the reference's default, 1e-6, must be the op's default too
    assert_matches(case, run_onnxruntime(ort, library("onnxruntime"), onnx_model(case, "opforge"), case.inputs))


@pytest.mark.parametrize("op, attrs, message", [
    ("rms_norm", {"epsilon": 0}, "rms_norm: attribute 'epsilon' must be a float, got an int"),  # optional: no default
    ("clip", {"lo": -1, "hi": 1.0}, "clip: attribute 'lo' must be a float, got an int"),  # required: not "missing"
])
def test_attribute_of_the_wrong_type_is_refused(op, attrs, message):
    """onnx.helper makes epsilon=0 an int attribute: the session is refused
    instead of the op computing with the default epsilon."""
    case = next(c for c in all_cases() if c.op == op and c.dtype == "float32")
    case.attrs = attrs
    with pytest.raises(Exception, match=re.escape(message)):
        run_onnxruntime(ort, library("onnxruntime"), onnx_model(case, "opforge"), case.inputs)


def old_runtime_pythons() -> list[str]:
    """Interpreters of older onnxruntime releases, from OPFORGE_ORT_COMPAT_PYTHONS
    (os.pathsep-separated); .ci/run sets it up for onnxruntime 1.15.0."""
    raw = os.environ.get("OPFORGE_ORT_COMPAT_PYTHONS", "")
    return [p for p in raw.split(os.pathsep) if p]


@pytest.mark.parametrize("python", old_runtime_pythons() or ["unset"])
def test_same_library_computes_in_older_runtime(python):
    if python == "unset":
        pytest.skip("OPFORGE_ORT_COMPAT_PYTHONS is unset: no older onnxruntime to test against "
                    "(`make test` provisions onnxruntime 1.15.0 in .venvs/ort115)")
    import opforge.cases

    got = results_of(run_python(Path(opforge.cases.__file__).read_text(), "onnxruntime",
                                library("onnxruntime"), str(OPS_DIR), "opforge", python=python))
    assert got["version"].split(".")[:2] != ort.__version__.split(".")[:2], "not an older runtime"
    assert set(got["ops"]) == set(OPS)  # every op the ops folder lists
    for op, r in got["ops"].items():
        assert r["cases"] > 0 and not r["failures"], (got["version"], op, r["failures"])

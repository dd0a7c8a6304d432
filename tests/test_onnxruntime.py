"""ONNX Runtime library in real ONNX Runtime: the newest runtime here, and
onnxruntime 1.15 (Triton 23.05) in its own virtual environment."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from conftest import library, old_runtime_pythons, require_framework, results_of, run_python
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
    # Rows small enough that epsilon moves the result: another default would not match.
    case.inputs = [np.array([[1e-3, -2e-3, 0.0, 5e-4]], np.float32), np.ones(4, np.float32)]
    case.attrs = {}  # the reference's default, 1e-6, must be the op's default too
    got = run_onnxruntime(ort, library("onnxruntime"), onnx_model(case, "opforge"), case.inputs)
    assert_matches(case, got)
    case.attrs = {"epsilon": 1e-5}
    assert not np.allclose(got, case.expected(), rtol=1e-3), "epsilon does not matter for these inputs"


@pytest.mark.parametrize("op, attrs, message", [
    ("rms_norm", {"epsilon": 0}, "rms_norm: attribute 'epsilon' must be a float, got an int"),  # optional: no default
    ("clip", {"lo": -1, "hi": 1.0}, "clip: attribute 'lo' must be a float, got an int"),  # required: not "missing"
    ("rms_norm", {"epsilon": "9"}, "rms_norm: attribute 'epsilon' must be a float, got another type"),
    ("rms_norm", {"epsilon": [9.0]}, "rms_norm: attribute 'epsilon' must be a float, got another type"),
    ("clip", {"lo": "0", "hi": 1.0}, "clip: attribute 'lo' must be a float, got another type"),
])
def test_attribute_of_the_wrong_type_is_refused(op, attrs, message):
    """onnx.helper makes epsilon=0 an int attribute: the session is refused
    instead of the op computing with the default epsilon."""
    case = next(c for c in all_cases() if c.op == op and c.dtype == "float32")
    case.attrs = attrs
    with pytest.raises(Exception, match=re.escape(message)):
        run_onnxruntime(ort, library("onnxruntime"), onnx_model(case, "opforge"), case.inputs)


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


SECOND_RUNTIME = r'''
import ctypes, json, os, sys
import numpy as np, onnxruntime as ort
from opforge.cases import Case, onnx_model

library, copy = sys.argv[1], sys.argv[2]
x = np.linspace(-2, 2, 9, dtype=np.float32)
options = ort.SessionOptions()
options.register_custom_ops_library(library)
session = ort.InferenceSession(onnx_model(Case("clip", "float32", [x], {"lo": -0.5, "hi": 0.5}), "opforge"),
                               options, providers=["CPUExecutionProvider"])  # kept open across the second runtime
before = session.run(None, {"in0": x})[0]

class OrtApiBase(ctypes.Structure):
    _fields_ = [("GetApi", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_uint32)),
                ("GetVersionString", ctypes.CFUNCTYPE(ctypes.c_char_p))]

second = ctypes.CDLL(copy, mode=os.RTLD_LOCAL)  # another file: the loader maps a second runtime
second.OrtGetApiBase.restype = ctypes.POINTER(OrtApiBase)
base = second.OrtGetApiBase()
api = ctypes.cast(base.contents.GetApi(1), ctypes.POINTER(ctypes.c_void_p))
fn = lambda index, res, *args: ctypes.CFUNCTYPE(res, *args)(api[index])  # OrtApi's slots, as in onnxruntime_c_api.h
get_error_message = fn(2, ctypes.c_char_p, ctypes.c_void_p)
create_session_options = fn(10, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))
release_status = fn(93, None, ctypes.c_void_p)
second_options = ctypes.c_void_p()
assert create_session_options(ctypes.byref(second_options)) is None
register = ctypes.CDLL(library).RegisterCustomOps
register.restype, register.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p]
status = register(second_options, ctypes.cast(base, ctypes.c_void_p))
message = get_error_message(status).decode() if status else None
if status:
    release_status(status)
after = session.run(None, {"in0": x})[0]
print(json.dumps({"version": base.contents.GetVersionString().decode(), "message": message,
                  "expected": np.clip(x, -0.5, 0.5).tolist(), "before": before.tolist(), "after": after.tolist()}))
'''


def test_a_second_runtime_in_the_process_is_refused(tmp_path):
    """A second copy of the same ONNX Runtime has an API table of its own:
    registering with it would swap the table under the first runtime's
    sessions, so it is refused, and those sessions keep computing."""
    runtimes = sorted((Path(ort.__file__).parent / "capi").glob("libonnxruntime.so*"))
    if not runtimes:
        pytest.skip(f"onnxruntime {ort.__version__}'s wheel links its runtime into the Python module: "
                    "no libonnxruntime.so to load a second copy of")
    copy = tmp_path / runtimes[0].name
    copy.write_bytes(runtimes[0].read_bytes())
    got = results_of(run_python(SECOND_RUNTIME, library("onnxruntime"), str(copy)))
    assert got["version"] == ort.__version__
    assert got["message"] is not None, "the second runtime was accepted"
    assert got["message"].startswith("opforge: registered with another ONNX Runtime in this process already"), got
    assert f"this one, {ort.__version__}," in got["message"]
    assert got["before"] == got["after"] == got["expected"]

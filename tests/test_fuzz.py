"""Property-based fuzzing (hypothesis) of every op in every framework
installed: the result equals the op's numpy reference, or the framework's own
error is raised; never a signal, never a hang.

Cases run in a child process per framework (tests/fuzz_worker.py), started
again after a crash, so that a crash fails the example that caused it (and
hypothesis shrinks it) instead of killing pytest. Drawn: dtypes, supported or
not; ranks 0-6 with sizes including 0 and very large dimensions on empty
tensors; non-contiguous views (torch); NaN, +-Inf and subnormals; attributes
with NaN/Inf, negative epsilon, lo > hi; mismatched shapes and weights.

Profiles (OPFORGE_FUZZ_PROFILE): "ci" (default) runs 1,000 cases per op and
framework with a fixed seed; "long" (`make fuzz`) runs 20,000, unseeded.
"""

from __future__ import annotations

import functools
import math
import os
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import library, require_framework
from fuzz_worker import read_message, write_message
from opcases import OPS, OPS_DIR
from opforge.cases import load_reference

settings.register_profile("ci", max_examples=1000, derandomize=True, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=20000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("OPFORGE_FUZZ_PROFILE", "ci"))

CASE_TIMEOUT_S = 60
ERRORS = {  # the framework's own error types
    "torch": {"RuntimeError", "TypeError", "ValueError", "IndexError", "NotImplementedError"},
    "tensorflow": {"InvalidArgumentError", "TypeError", "ValueError", "NotFoundError", "UnimplementedError"},
    "onnxruntime": {"Fail", "InvalidArgument", "RuntimeException", "InvalidGraph", "NotImplemented"},
}
DTYPES = ["float32", "float16", "int32", "int64", "float64", "int8"]  # the last two: opforge has no kernel
# The ops' relations and attribute ranges, as their specs state them (ops/<op>/<op>.h).
INPUTS = {"clip": 1, "zero_out": 1, "modulo": 2, "rms_norm": 2}
ATTRS = {"clip": ("lo", "hi"), "rms_norm": ("epsilon",)}
# rms_norm accumulates squares in float32, as torch's does: outside these
# magnitudes a float32 square overflows or underflows where the float64
# reference's does not (found by the long profile: x = 1.18e-38, epsilon = 0).
RMS_FLOAT32_MAX = 2.0**60
RMS_FLOAT32_MIN = 2.0**-60


class Worker:
    def __init__(self, framework: str):
        self.framework = framework
        self.proc = None

    def start(self):
        script = Path(__file__).with_name("fuzz_worker.py")
        self.proc = subprocess.Popen([sys.executable, str(script), self.framework, library(self.framework), "opforge"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self._read(300) == {"ready": True}, "fuzz worker did not start"

    def _read(self, timeout):
        out = self.proc.stdout
        ready, _, _ = select.select([out], [], [], timeout)
        if not ready:
            return "hang"
        return read_message(out)

    def run(self, case):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        write_message(self.proc.stdin, case)
        answer = self._read(CASE_TIMEOUT_S)
        if answer == "hang":
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            return {"hang": True}
        if answer is None:
            code = self.proc.wait()
            self.proc = None
            return {"crash": code}
        return answer

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


@pytest.fixture(scope="module", params=["torch", "tensorflow", "onnxruntime"])
def worker(request):
    require_framework(request.param)
    if request.param == "onnxruntime":
        require_framework("onnx")
    w = Worker(request.param)
    yield w
    w.close()


def shapes(rank_max=6):
    """Ranks 0-6, sizes 0-4, and now and then one very large dimension on an empty tensor."""
    return hnp.array_shapes(min_dims=0, max_dims=rank_max, min_side=0, max_side=4).flatmap(
        lambda s: st.just(s) if 0 not in s else st.sampled_from([s, s[:-1] + (1 << 20,) if s[-1] != 0 else s]))


def values(dtype, shape, finite_max=None):
    dt = np.dtype(dtype)
    if dt.kind == "f" and finite_max is not None:
        width = dt.itemsize * 8
        elements = st.one_of(st.floats(RMS_FLOAT32_MIN, finite_max, width=width),
                             st.floats(-finite_max, -RMS_FLOAT32_MIN, width=width),
                             st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf]))
        return hnp.arrays(dt, shape, elements=elements)
    return hnp.arrays(dt, shape)  # from_dtype: NaN, +-Inf, subnormals, INT_MIN...


@st.composite
def cases(draw, op):
    dtype = draw(st.sampled_from(DTYPES))
    x_shape = draw(shapes())
    def limit(dt):
        return RMS_FLOAT32_MAX if op == "rms_norm" and dt == "float32" else None

    inputs = [draw(values(dtype, x_shape, limit(dtype)))]
    if INPUTS[op] == 2:
        other = draw(st.sampled_from(["valid", "shape", "dtype"]))
        if op == "modulo":
            shape = x_shape if other != "shape" else draw(shapes())
        else:  # rms_norm: weight [x.shape[-1]]
            shape = (x_shape[-1],) if x_shape and other != "shape" else draw(shapes(2))
        second = dtype if other != "dtype" else draw(st.sampled_from(DTYPES))
        inputs.append(draw(values(second, shape, limit(second))))
    # rms_norm adds epsilon to a float32 mean of squares: the same range as x.
    bound = RMS_FLOAT32_MAX if op == "rms_norm" else None
    floats = st.one_of(st.floats(width=32, min_value=-bound if bound else None, max_value=bound),
                       st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 0.0]))
    attrs = {name: float(draw(floats)) for name in ATTRS.get(op, ())}
    return {"op": op, "inputs": inputs, "attrs": attrs, "strided": draw(st.booleans())}


@functools.cache
def reference_module(op: str):
    return load_reference(OPS_DIR / op)  # once per op: hypothesis asks for it on every example


def valid(case) -> bool:
    """Whether the op must compute: the spec's dtype, relation and attribute rules."""
    op, ins, attrs = case["op"], case["inputs"], case["attrs"]
    ref = reference_module(op)
    if any(str(a.dtype) != str(ins[0].dtype) for a in ins) or str(ins[0].dtype) not in ref.DTYPES:
        return False
    if op == "modulo":
        return ins[0].shape == ins[1].shape
    if op == "rms_norm":
        x, w = ins
        eps = attrs["epsilon"]
        return x.ndim >= 1 and w.ndim == 1 and w.shape[0] == x.shape[-1] and math.isfinite(eps) and eps >= 0
    return True


def close(op, got, expected) -> np.ndarray | bool:
    """Per element: equal within the op's tolerance, NaN where the reference has NaN."""
    tol = reference_module(op).TOLERANCE
    tol = tol.get(str(expected.dtype), 0) if isinstance(tol, dict) else tol
    if got.shape != expected.shape or got.dtype != expected.dtype:
        return False
    if expected.dtype.kind != "f":
        return got == expected
    g, e = got.astype(np.float64), expected.astype(np.float64)
    return np.isclose(g, e, rtol=tol, atol=tol, equal_nan=True) & (np.isnan(g) == np.isnan(e))


def flush_denormals(a):
    """float32 subnormals as zeros: TensorFlow runs CPU kernels with denormals
    flushed to zero (port::ScopedFlushDenormal), its builtins as well as ours,
    which affects float arithmetic but not integer-based code such as fmod."""
    a = np.asarray(a)
    if a.dtype != np.float32:
        return a
    return np.where((a != 0) & (np.abs(a) < np.finfo(np.float32).tiny), np.copysign(np.float32(0), a), a)


def check(worker, case):
    answer = worker.run(case)
    shapes_ = [a.shape for a in case["inputs"]]
    where = f"{worker.framework} {case['op']} {[str(a.dtype) for a in case['inputs']]} {shapes_} {case['attrs']}"
    assert "crash" not in answer, f"{where}: the process died (exit {answer.get('crash')})"
    assert "hang" not in answer, f"{where}: no answer in {CASE_TIMEOUT_S} s"
    flushed = {**case, "attrs": {k: float(flush_denormals(np.float32(v))) for k, v in case["attrs"].items()}}
    if worker.framework == "tensorflow" and valid(case) != valid(flushed):
        # A subnormal attribute reads as zero where TensorFlow flushes denormals
        # (epsilon = -1e-44 is -0 there): an error and a result are both right.
        if "error" in answer:
            assert answer["error"] in ERRORS[worker.framework], f"{where}: raised {answer['error']}: {answer['message']}"
            return
        case = flushed
    if valid(case):
        assert "error" not in answer, f"{where}: valid inputs raised {answer.get('error')}: {answer.get('message')}"
        ref, got = getattr(reference_module(case["op"]), case["op"]), answer["out"]
        with np.errstate(all="ignore"):
            ok = close(case["op"], got, np.asarray(ref(*case["inputs"], **case["attrs"])))
            if worker.framework == "tensorflow":  # whether a denormal flushes depends on the arithmetic used
                ins = [flush_denormals(a) for a in case["inputs"]]
                attrs = {k: float(flush_denormals(np.float32(v))) for k, v in case["attrs"].items()}
                ok = ok | close(case["op"], got, flush_denormals(ref(*ins, **attrs)))
        assert np.all(ok), f"{where}: differs from the reference"
    else:
        assert "error" in answer, f"{where}: invalid inputs computed a result"
        assert answer["error"] in ERRORS[worker.framework], f"{where}: raised {answer['error']}: {answer['message']}"


def make_test(op):
    if op not in INPUTS:
        def test():
            pytest.skip(f"{op}: no fuzz strategy: list its inputs and attributes in INPUTS and ATTRS of {__file__}")
    else:
        @given(case=cases(op))
        def test(worker, case):
            check(worker, case)

    test.__name__ = f"test_fuzz_{op}"
    return test


for _op in OPS:
    globals()[f"test_fuzz_{_op}"] = make_test(_op)

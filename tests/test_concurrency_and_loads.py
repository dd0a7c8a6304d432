"""What a server does to an op library over its life: many model instances
calling one session, module or function at once, and models loaded and
reloaded thousands of times. Each framework runs in a child process."""

from __future__ import annotations

import os

import pytest

from conftest import library, require_framework, results_of, run_python

THREADS, CALLS = 8, 1000
LOADS = 1000
RSS_GROWTH_MB = 30  # allowed growth from the 100th to the last load (allocator noise, framework caches)

# Every op on inputs large enough for the parallel path (> 32K elements).
COMMON = r"""
import json, sys, threading
import numpy as np
rng = np.random.default_rng(7)
N = 40_000
DATA = {"x": (rng.standard_normal(N) * 3).astype(np.float32),
        "a": (rng.standard_normal(N) * 3).astype(np.float32),
        "b": (rng.standard_normal(N) * 3 + 0.5).astype(np.float32),
        "z": rng.integers(-1000, 1000, N).astype(np.int64),
        "r": rng.standard_normal((N // 1000, 1000)).astype(np.float32),
        "w": rng.standard_normal(1000).astype(np.float32)}

def hammer(call):
    # THREADS threads x CALLS calls of one callable; every result equal to the first, single-threaded one.
    expected = [np.asarray(v) for v in call()]
    bad = []
    def worker():
        for _ in range(CALLS):
            got = call()
            if not all(np.array_equal(np.asarray(g), e, equal_nan=True) for g, e in zip(got, expected)):
                bad.append(1)
                return
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads: t.start()
    for t in threads: t.join()
    return len(bad)

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
"""

CONCURRENT = {
    "torch": r"""
import torch
torch.ops.load_library(sys.argv[1])
class M(torch.nn.Module):
    def forward(self, x, a, b, z, r, w):
        o = torch.ops.opforge
        return o.clip(x, -1.0, 1.0), o.modulo(a, b), o.zero_out(z), o.rms_norm(r, w, 1e-6)
t = {k: torch.from_numpy(v) for k, v in DATA.items()}
args = (t["x"], t["a"], t["b"], t["z"], t["r"], t["w"])
m = torch.jit.trace(M(), args)  # a TorchScript module, as Triton's libtorch backend runs it
print(json.dumps({"bad": hammer(lambda: m(*args))}))
""",
    "tensorflow": r"""
import tensorflow as tf
m = tf.load_op_library(sys.argv[1])
@tf.function
def f(x, a, b, z, r, w):
    return (m.opforge_clip(x, lo=-1.0, hi=1.0), m.opforge_modulo(a, b), m.opforge_zero_out(z),
            m.opforge_rms_norm(r, w, epsilon=1e-6))
t = {k: tf.constant(v) for k, v in DATA.items()}
print(json.dumps({"bad": hammer(lambda: f(t["x"], t["a"], t["b"], t["z"], t["r"], t["w"]))}))
""",
    "onnxruntime": r"""
import onnxruntime as ort
from onnx import helper, TensorProto as P
F, I = P.FLOAT, P.INT64
nodes = [helper.make_node("Clip", ["x"], ["y0"], domain="opforge", lo=-1.0, hi=1.0),
         helper.make_node("Modulo", ["a", "b"], ["y1"], domain="opforge"),
         helper.make_node("ZeroOut", ["z"], ["y2"], domain="opforge"),
         helper.make_node("RmsNorm", ["r", "w"], ["y3"], domain="opforge", epsilon=1e-6)]
ins = [helper.make_tensor_value_info(k, I if k == "z" else F, None) for k in DATA]
outs = [helper.make_tensor_value_info(f"y{i}", I if i == 2 else F, None) for i in range(4)]
model = helper.make_model(helper.make_graph(nodes, "g", ins, outs),
                          opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("opforge", 1)])
model.ir_version = 8
so = ort.SessionOptions(); so.register_custom_ops_library(sys.argv[1])
s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
print(json.dumps({"bad": hammer(lambda: s.run(None, DATA))}))
""",
}

LOADS_CODE = {
    "torch": r"""
import torch
x = torch.from_numpy(DATA["x"])
def load():
    torch.ops.load_library(sys.argv[1])
    torch.ops.opforge.clip(x, -1.0, 1.0)
""",
    "tensorflow": r"""
import tensorflow as tf
def load():
    tf.load_op_library(sys.argv[1]).opforge_clip(DATA["x"], lo=-1.0, hi=1.0)
""",
    "onnxruntime": r"""
import onnxruntime as ort
from onnx import helper, TensorProto as P
node = helper.make_node("Clip", ["x"], ["y"], domain="opforge", lo=-1.0, hi=1.0)
g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", P.FLOAT, None)],
                      [helper.make_tensor_value_info("y", P.FLOAT, None)])
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("opforge", 1)])
model.ir_version = 8
blob = model.SerializeToString()
def load():  # what every model load does: new options, the library registered, a session, one run
    so = ort.SessionOptions(); so.register_custom_ops_library(sys.argv[1])
    s = ort.InferenceSession(blob, so, providers=["CPUExecutionProvider"])
    s.run(None, {"x": DATA["x"]})
""",
}

MEASURE_LOADS = r"""
for _ in range(100): load()
base = rss_mb()
for _ in range(LOADS - 100): load()
print(json.dumps({"growth_mb": rss_mb() - base}))
"""


def _require(framework):
    require_framework(framework)
    if framework == "onnxruntime":
        require_framework("onnx")


@pytest.mark.parametrize("framework", list(CONCURRENT))
def test_concurrent_calls_match_single_threaded(framework):
    _require(framework)
    code = f"THREADS, CALLS = {THREADS}, {CALLS}\n" + COMMON + CONCURRENT[framework]
    got = results_of(run_python(code, library(framework), timeout=900))
    assert got["bad"] == 0, f"{got['bad']} of {THREADS} threads saw a result unlike the single-threaded one"


@pytest.mark.parametrize("framework", list(LOADS_CODE))
def test_repeated_loads_keep_memory_bounded(framework):
    if os.environ.get("OPFORGE_SANITIZED"):
        pytest.skip("under AddressSanitizer (make test-asan) freed memory stays in its quarantine: "
                    "resident memory measures no leak there")
    _require(framework)
    code = f"LOADS = {LOADS}\n" + COMMON + LOADS_CODE[framework] + MEASURE_LOADS
    got = results_of(run_python(code, library(framework), timeout=900))
    assert got["growth_mb"] < RSS_GROWTH_MB, f"resident memory grew {got['growth_mb']:.1f} MB over {LOADS - 100} loads"

"""CPU kernels run on the threads the framework lends them (torch's
at::parallel_for, TensorFlow's CPU worker threads, ONNX Runtime's intra-op
pool): no thread is created per call.

Each child calls clip on 2^20 float32 elements (above the parallel grain)
1,000 times. Linux hands out thread ids in sequence, so a thread started
after the calls has an id about 1,000 above one started before if each call
started a thread, and close to it if none did."""

from __future__ import annotations

import pytest

from conftest import library, require_framework, results_of, run_python

CALLS = 1000
MAX_NEW_IDS = 200  # other processes on the machine take ids too; one thread per call would take >= 1000

PROBE = r"""
import json, threading
def fresh_id():
    t = threading.Thread(target=lambda: None); t.start(); t.join(); return t.native_id
call()  # the framework's pools start here, once
before = fresh_id()
for _ in range(CALLS):
    call()
print(json.dumps({"new_ids": fresh_id() - before - 1}))
"""

SETUP = {
    "torch": r"""
import sys, torch
torch.ops.load_library(sys.argv[1])
x = torch.randn(1 << 20)
call = lambda: torch.ops.opforge.clip(x, -0.5, 0.5)
""",
    "tensorflow": r"""
import sys, tensorflow as tf
m = tf.load_op_library(sys.argv[1])
x = tf.random.normal([1 << 20])
call = lambda: m.opforge_clip(x, lo=-0.5, hi=0.5)
""",
    "onnxruntime": r"""
import sys, numpy as np, onnxruntime as ort
from onnx import helper, TensorProto
node = helper.make_node("Clip", ["x"], ["y"], domain="opforge", lo=-0.5, hi=0.5)
g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])])
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("opforge", 1)])
model.ir_version = 8
so = ort.SessionOptions()
so.register_custom_ops_library(sys.argv[1])
s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)
call = lambda: s.run(None, {"x": x})
""",
}


@pytest.mark.parametrize("framework", list(SETUP))
def test_no_thread_per_call(framework):
    require_framework(framework)
    if framework == "onnxruntime":
        require_framework("onnx")
    code = SETUP[framework] + f"CALLS = {CALLS}\n" + PROBE
    got = results_of(run_python(code, library(framework), timeout=600))
    assert got["new_ids"] < MAX_NEW_IDS, f"{got['new_ids']} thread ids taken during {CALLS} calls"

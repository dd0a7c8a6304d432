"""Bad inputs raise the framework's own error and never take the process
down. Each framework's cases run in a child interpreter: a crash (signal)
fails the test with the case that caused it instead of killing pytest."""

from __future__ import annotations

import re

import pytest

from conftest import library, require_framework, results_of, run_python

# Each child prints "case -> exception type: message"; the parent checks it.
TORCH = r"""
import json, sys, torch
torch.ops.load_library(sys.argv[1])
o = torch.ops.opforge
f32, f16, i32 = torch.float32, torch.float16, torch.int32
cases = {
  "clip int32": lambda: o.clip(torch.ones(3, dtype=i32), 0., 1.),
  "clip float64": lambda: o.clip(torch.ones(3, dtype=torch.float64), 0., 1.),
  "zero_out float32": lambda: o.zero_out(torch.ones(3)),
  "modulo shape": lambda: o.modulo(torch.ones(3), torch.ones(4)),
  "modulo dtype mix": lambda: o.modulo(torch.ones(3), torch.ones(3, dtype=i32)),
  "modulo int64": lambda: o.modulo(torch.ones(3, dtype=torch.int64), torch.ones(3, dtype=torch.int64)),
  "rms_norm weight length": lambda: o.rms_norm(torch.ones(2, 8), torch.ones(7), 1e-6),
  "rms_norm weight rank": lambda: o.rms_norm(torch.ones(2, 8), torch.ones(1, 8), 1e-6),
  "rms_norm scalar x": lambda: o.rms_norm(torch.tensor(1.), torch.ones(1), 1e-6),
  "rms_norm weight dtype": lambda: o.rms_norm(torch.ones(2, 8), torch.ones(8, dtype=f16), 1e-6),
  "rms_norm negative epsilon": lambda: o.rms_norm(torch.ones(2, 8), torch.ones(8), -1.),
  "rms_norm epsilon past float32": lambda: o.rms_norm(torch.ones(2, 8), torch.ones(8), 1e39),
}
"""

TENSORFLOW = r"""
import json, sys
import numpy as np, tensorflow as tf
m = tf.load_op_library(sys.argv[1])
cases = {
  "clip int32": lambda: m.opforge_clip(tf.ones([3], tf.int32), lo=0., hi=1.),
  "clip missing attr": lambda: m.opforge_clip(tf.ones([3])),
  "zero_out float32": lambda: m.opforge_zero_out(tf.ones([3])),
  "modulo shape": lambda: m.opforge_modulo(tf.ones([3]), tf.ones([4])),
  "modulo shape in graph": lambda: tf.function(lambda a, b: m.opforge_modulo(a, b),
      input_signature=[tf.TensorSpec([None]), tf.TensorSpec([None])])(tf.ones([3]), tf.ones([4])),
  "rms_norm weight length": lambda: m.opforge_rms_norm(tf.ones([2, 8]), tf.ones([7])),
  "rms_norm weight length in graph": lambda: tf.function(lambda x, w: m.opforge_rms_norm(x, w),
      input_signature=[tf.TensorSpec([None, None]), tf.TensorSpec([None])])(tf.ones([2, 8]), tf.ones([7])),
  "rms_norm weight rank": lambda: m.opforge_rms_norm(tf.ones([2, 8]), tf.ones([1, 8])),
  "rms_norm scalar x": lambda: m.opforge_rms_norm(tf.constant(1.), tf.ones([1])),
  "rms_norm weight dtype": lambda: m.opforge_rms_norm(tf.ones([2, 8]), tf.ones([8], tf.float16)),
  "rms_norm negative epsilon": lambda: m.opforge_rms_norm(tf.ones([2, 8]), tf.ones([8]), epsilon=-1.),
}
"""

ONNXRUNTIME = r"""
import json, sys
import numpy as np, onnxruntime as ort
from onnx import helper
def run(op, arrays, elem, shapes=None, **attrs):
    names = [f"in{i}" for i in range(len(arrays))]
    node = helper.make_node(op, names, ["y"], domain="opforge", **attrs)
    shapes = shapes or [[None] * a.ndim for a in arrays]
    ins = [helper.make_tensor_value_info(n, e, s) for n, e, s in zip(names, elem, shapes)]
    g = helper.make_graph([node], "g", ins, [helper.make_tensor_value_info("y", elem[0], None)])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("opforge", 1)])
    model.ir_version = 8
    so = ort.SessionOptions(); so.log_severity_level = 4
    so.register_custom_ops_library(sys.argv[1])
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return s.run(None, dict(zip(names, arrays)))
F, H, I32, I64, D = 1, 10, 6, 7, 11
f = lambda *s: np.ones(s, np.float32)
cases = {
  "clip int32": lambda: run("Clip", [np.ones(3, np.int32)], [I32], lo=0., hi=1.),
  "clip float64": lambda: run("Clip", [np.ones(3)], [D], lo=0., hi=1.),
  "clip missing attr": lambda: run("Clip", [f(3)], [F]),
  "zero_out float32": lambda: run("ZeroOut", [f(3)], [F]),
  "modulo shape": lambda: run("Modulo", [f(3), f(4)], [F, F]),
  "modulo dtype mix": lambda: run("Modulo", [f(3), np.ones(3, np.int32)], [F, I32]),
  "rms_norm weight length": lambda: run("RmsNorm", [f(2, 8), f(7)], [F, F]),
  "rms_norm weight rank": lambda: run("RmsNorm", [f(2, 8), f(1, 8)], [F, F]),
  "rms_norm scalar x": lambda: run("RmsNorm", [np.array(1, np.float32), f(1)], [F, F]),
  "rms_norm weight dtype": lambda: run("RmsNorm", [f(2, 8), np.ones(8, np.float16)], [F, H]),
  "rms_norm negative epsilon": lambda: run("RmsNorm", [f(2, 8), f(8)], [F, F], epsilon=-1.),
  "rms_norm epsilon past float32": lambda: run("RmsNorm", [f(2, 8), f(8)], [F, F], epsilon=1e39),
}
"""

# Appended to each child: every case runs, and its outcome is reported.
REPORT = r"""
out = {}
for name, fn in cases.items():
    try:
        fn(); out[name] = "no error"
    except Exception as e:
        out[name] = type(e).__name__ + ": " + (str(e).strip().splitlines() or [""])[0]
print(json.dumps(out))
"""

# Expected exception types, by framework; the message must name the problem.
EXPECT = {
    "torch": ("torch", TORCH, ("RuntimeError", "TypeError", "ValueError")),
    "tensorflow": ("tensorflow", TENSORFLOW, ("InvalidArgumentError", "TypeError", "ValueError")),
    "onnxruntime": ("onnxruntime", ONNXRUNTIME, ("RuntimeException", "Fail", "InvalidArgument",
                                                 "NotImplemented", "InvalidGraph")),
}


# What the message must name, by case (every framework): the problem, not only an error type.
NAMES_THE_PROBLEM = {
    "clip int32": r"int32|dtype Int\b", "clip float64": r"float64|double|Double", "clip missing attr": r"\blo\b",
    "zero_out float32": r"float|Float", "modulo shape": r"same shape", "modulo shape in graph": r"same shape",
    "modulo dtype mix": r"dtype|type", "modulo int64": r"int64|Long", "rms_norm weight length": r"7 elements",
    "rms_norm weight length in graph": r"7 elements", "rms_norm weight rank": r"1-D",
    "rms_norm scalar x": r"at least one dimension", "rms_norm weight dtype": r"float16|half|type",
    "rms_norm negative epsilon": r"epsilon.*-1", "rms_norm epsilon past float32": r"epsilon",
}


@pytest.mark.parametrize("framework", list(EXPECT))
def test_bad_inputs_raise_framework_errors(framework):
    module, code, allowed = EXPECT[framework]
    require_framework(module)
    if framework == "onnxruntime":
        require_framework("onnx")
    results = results_of(run_python(code + REPORT, library(framework)))
    problems = {case: got for case, got in results.items()
                if got == "no error" or got.split(":")[0] not in allowed
                or not re.search(NAMES_THE_PROBLEM[case], got.split(":", 1)[1])}
    assert not problems, f"expected one of {allowed}, naming the problem; got: {problems}"

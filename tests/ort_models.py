"""ONNX models for the ONNX Runtime tests, built with onnx.helper, and a
runner that needs only numpy and onnxruntime (so it also runs in the
virtual environment of an older runtime)."""

from __future__ import annotations

import numpy as np

ONNX_TYPES = {"float32": 1, "int32": 6, "int64": 7, "float16": 10}  # TensorProto enum values


def build_model(case, ort_type: str) -> bytes:
    from onnx import helper

    names = [f"in{i}" for i in range(len(case.inputs))]
    node = helper.make_node(ort_type, names, ["y"], domain="opforge", **case.attrs)
    elem = ONNX_TYPES[case.dtype]
    inputs = [helper.make_tensor_value_info(n, elem, [f"{n}_d{k}" for k in range(a.ndim)])
              for n, a in zip(names, case.inputs)]
    output = helper.make_tensor_value_info("y", elem, None)
    graph = helper.make_graph([node], f"opforge_{case.op}", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("opforge", 1)])
    model.ir_version = 8  # loadable by onnxruntime 1.15 (Triton 23.05)
    return model.SerializeToString()


def run_model(ort, library: str, model: bytes, inputs: list, provider: str = "CPUExecutionProvider"):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.register_custom_ops_library(library)
    session = ort.InferenceSession(model, options, providers=[provider])
    feeds = {f"in{i}": a for i, a in enumerate(inputs)}
    return session.run(None, feeds)[0]


RUN_SAVED = """
import json, sys
from pathlib import Path
import numpy as np
import onnxruntime as ort
sys.path.insert(0, sys.argv[3])
from ort_models import run_model
results = {}
for model in sorted(Path(sys.argv[2]).glob("*.onnx")):
    data = np.load(model.with_suffix(".npz"))
    inputs = [data[k] for k in sorted(data.files)]
    got = run_model(ort, sys.argv[1], model.read_bytes(), inputs)
    np.save(model.with_suffix(".out.npy"), got)
    results[model.stem] = str(got.dtype)
print(json.dumps({"version": ort.__version__, "results": results}))
"""

"""The child process of tests/test_fuzz.py: loads one framework and one opforge
library, then runs the cases it is sent, one at a time, and answers each.

    python fuzz_worker.py FRAMEWORK LIBRARY NAMESPACE

Protocol (stdin / stdout, pickled, each message prefixed by its 8-byte
length): a case {"op", "inputs": [ndarray], "attrs": {name: float},
"strided": bool} in; {"out": ndarray} or {"error": type name, "message":
first line} out. A crash ends the process: the parent sees the signal.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def camel(op: str) -> str:
    return "".join(part.capitalize() for part in op.split("_"))


def strided_like(t, torch):
    """The same values as a non-contiguous view: the transpose of a contiguous copy of the transpose."""
    if t.dim() == 0 or t.numel() == 0:
        return t
    if t.dim() == 1:
        return t.repeat_interleave(2)[::2]
    dims = list(range(t.dim()))[::-1]
    return t.permute(*dims).contiguous().permute(*dims)


def torch_runner(lib, ns):
    import torch

    torch.ops.load_library(lib)
    ops = getattr(torch.ops, ns)

    def run(case):
        ins = [torch.from_numpy(a) for a in case["inputs"]]
        if case["strided"]:
            ins = [strided_like(t, torch) for t in ins]
        return getattr(ops, case["op"])(*ins, *case["attrs"].values()).numpy()

    return run


def tensorflow_runner(lib, ns):
    import tensorflow as tf

    module = tf.load_op_library(lib)

    def run(case):
        ins = [tf.constant(a) for a in case["inputs"]]  # typed: numpy arrays would be converted to T
        return getattr(module, f"{ns}_{case['op']}")(*ins, **case["attrs"]).numpy()

    return run


def onnxruntime_runner(lib, ns):
    import onnxruntime as ort
    from onnx import helper

    types = {"float32": 1, "int32": 6, "int64": 7, "float16": 10, "float64": 11, "int8": 3}

    def run(case):
        names = [f"in{i}" for i in range(len(case["inputs"]))]
        node = helper.make_node(camel(case["op"]), names, ["y"], domain=ns, **case["attrs"])
        elem = [types[str(a.dtype)] for a in case["inputs"]]
        ins = [helper.make_tensor_value_info(n, e, None) for n, e in zip(names, elem)]
        g = helper.make_graph([node], "g", ins, [helper.make_tensor_value_info("y", elem[0], None)])
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ns, 1)])
        model.ir_version = 8
        so = ort.SessionOptions()
        so.log_severity_level = 4
        so.register_custom_ops_library(lib)
        s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        return s.run(None, dict(zip(names, case["inputs"])))[0]

    return run


def read_message(stream):
    header = stream.read(8)
    if len(header) < 8:
        return None
    (size,) = struct.unpack("<Q", header)
    return pickle.loads(stream.read(size))


def write_message(stream, obj):
    data = pickle.dumps(obj)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def main() -> None:
    framework, lib, ns = sys.argv[1:4]
    run = {"torch": torch_runner, "tensorflow": tensorflow_runner, "onnxruntime": onnxruntime_runner}[framework](lib, ns)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # frameworks' chatter must not reach the protocol
    write_message(stdout, {"ready": True})
    while (case := read_message(stdin)) is not None:
        try:
            answer = {"out": np.asarray(run(case))}
        except Exception as e:  # the framework's own error: the parent checks its type
            answer = {"error": type(e).__name__, "message": (str(e).strip().splitlines() or [""])[0][:300]}
        write_message(stdout, answer)


if __name__ == "__main__":
    main()

"""The child process of tests/test_fuzz.py: loads one framework and one opforge
library, then runs the cases it is sent, one at a time, and answers each,
calling the ops as opforge.cases does.

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

from opforge.cases import Case, call_tensorflow, call_torch, onnx_model, run_onnxruntime  # noqa: E402


def strided_like(t):
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

    def run(case, strided):
        ins = [torch.from_numpy(a) for a in case.inputs]
        return call_torch(ops, case, [strided_like(t) for t in ins] if strided else ins).numpy()

    return run


def tensorflow_runner(lib, ns):
    import tensorflow as tf

    module = tf.load_op_library(lib)
    # typed constants: plain numpy arrays would be converted to the op's T
    return lambda case, strided: call_tensorflow(module, ns, case, [tf.constant(a) for a in case.inputs]).numpy()


def onnxruntime_runner(lib, ns):
    import onnxruntime as ort

    return lambda case, strided: run_onnxruntime(ort, lib, onnx_model(case, ns), case.inputs)


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
    while (message := read_message(stdin)) is not None:
        case = Case(message["op"], str(message["inputs"][0].dtype), message["inputs"], message["attrs"])
        try:
            answer = {"out": np.asarray(run(case, message["strided"]))}
        except Exception as e:  # the framework's own error: the parent checks its type
            answer = {"error": type(e).__name__, "message": (str(e).strip().splitlines() or [""])[0][:300]}
        write_message(stdout, answer)


if __name__ == "__main__":
    main()

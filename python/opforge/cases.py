"""Run an op folder's cases through a real framework and compare them with
the folder's numpy reference (ops/<op>/reference.py).

Used by the test suite and by release builds, which run this file by path
in another interpreter (a release's framework environment, where opforge
is not installed): it needs only numpy, the framework, and the standard
library, and imports nothing from opforge.

    python cases.py FRAMEWORK LIBRARY OPS_DIR NAMESPACE   -> JSON summary
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

def cmake_code(path) -> str:
    """A CMake file without its line comments (opforge's files quote no `#`)."""
    return "\n".join(line.split("#", 1)[0] for line in Path(path).read_text().splitlines())


def op_dirs(ops_dir) -> dict[str, Path]:
    """The ops an ops folder builds, in the order its ops.cmake lists them."""
    ops_dir = Path(ops_dir)
    text = cmake_code(ops_dir / "ops.cmake")
    names = re.findall(r'include\(\s*"?\$\{CMAKE_CURRENT_LIST_DIR\}/([^/"]+)/op\.cmake"?\s*\)', text)
    return {n: ops_dir / n for n in names}


def load_reference(op_dir):
    op_dir = Path(op_dir)
    spec = importlib.util.spec_from_file_location(f"_reference_{op_dir.name}", op_dir / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def camel(op: str) -> str:
    return "".join(part.capitalize() for part in op.split("_"))


def tf_prefix(namespace: str) -> str:
    """What TensorFlow op and TensorRT plugin names of a namespace start with."""
    return namespace[:1].upper() + namespace[1:]


def tf_op_name(namespace: str, op: str) -> str:
    """The TensorFlow op and TensorRT plugin name: <Prefix><Camel>."""
    return tf_prefix(namespace) + camel(op)


def tf_python_name(namespace: str, op: str) -> str:
    """The Python function tf.load_op_library makes for the op: TensorFlow's
    lower-casing of its name (GenerateLowerCaseOpName in python_op_gen), which
    puts `_` only where the case changes: conv_2d's OpforgeConv2d gives
    opforge_conv2d, a_b's OpforgeAB gives opforge_ab."""
    name, out = tf_op_name(namespace, op), []
    for i, c in enumerate(name):
        if c.isupper() and i > 0 and (name[i - 1].islower() or name[i + 1:i + 2].islower()):
            out.append("_")
        out.append(c.lower())
    return "".join(out)


@dataclass
class Case:
    op: str
    dtype: str
    inputs: list
    attrs: dict = field(default_factory=dict)
    reference: object = None  # the op's numpy function
    tolerance: float = 0.0

    @property
    def id(self) -> str:
        shape = "x".join(map(str, self.inputs[0].shape)) or "scalar"
        return f"{self.op}-{self.dtype}-{shape}"

    def expected(self) -> np.ndarray:
        return self.reference(*self.inputs, **self.attrs)


def _values_factory(seed: int):
    rng = np.random.default_rng(seed)

    def values(shape, dtype):
        dt = np.dtype(dtype)
        if dt.kind == "f":
            return (rng.standard_normal(shape) * 3).astype(dt)
        info = np.iinfo(dt)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape, dtype=dt)

    return values


def op_cases(op: str, op_dir) -> list[Case]:
    ref = load_reference(op_dir)
    fn = getattr(ref, op)
    out = []
    for inputs, attrs in ref.cases(_values_factory(zlib.crc32(op.encode()))):
        dtype = str(inputs[0].dtype)
        tol = ref.TOLERANCE.get(dtype, 0) if isinstance(ref.TOLERANCE, dict) else ref.TOLERANCE
        out.append(Case(op, dtype, inputs, dict(attrs), fn, tol))
    return out


def all_cases(ops_dir) -> list[Case]:
    return [c for op, d in op_dirs(ops_dir).items() for c in op_cases(op, d)]


def assert_matches(case: Case, actual) -> None:
    expected = case.expected()
    actual = np.asarray(actual)
    assert actual.dtype == expected.dtype, f"{case.id}: dtype {actual.dtype}, expected {expected.dtype}"
    assert actual.shape == expected.shape, f"{case.id}: shape {actual.shape}, expected {expected.shape}"
    if case.tolerance:  # as np.testing.assert_allclose: NaN matches NaN
        same = np.isclose(actual, expected, rtol=case.tolerance, atol=case.tolerance, equal_nan=True)
    else:  # as np.testing.assert_array_equal
        same = (actual == expected) | (_isnan(actual) & _isnan(expected))
    if not same.all():
        # One line (a build's failure line keeps no more), with what a kernel's author needs first.
        wrong = np.argwhere(~same)
        at = tuple(int(i) for i in wrong[0])
        within = f" (tolerance {case.tolerance:g})" if case.tolerance else ""
        raise AssertionError(f"{case.id}: {len(wrong)} of {same.size} elements differ{within}; the first, at "
                             f"{list(at)}: got {actual[at].item()!r}, expected {expected[at].item()!r}")


def _isnan(a: np.ndarray) -> np.ndarray:
    return np.isnan(a) if a.dtype.kind in "fc" else np.zeros(a.shape, bool)


# --- calling an op in each framework, by opforge's naming conventions -------

def call_torch(ops, case: Case, tensors):
    return getattr(ops, case.op)(*tensors, *case.attrs.values())


def call_tensorflow(module, namespace: str, case: Case, tensors):
    return getattr(module, tf_python_name(namespace, case.op))(*tensors, **case.attrs)


def onnx_model(case: Case, namespace: str) -> bytes:
    from onnx import helper

    names = [f"in{i}" for i in range(len(case.inputs))]
    node = helper.make_node(camel(case.op), names, ["y"], domain=namespace, **case.attrs)
    inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype),
                                            [f"{n}_d{k}" for k in range(a.ndim)])
              for n, a in zip(names, case.inputs)]
    output = helper.make_tensor_value_info("y", helper.np_dtype_to_tensor_dtype(np.dtype(case.dtype)), None)
    graph = helper.make_graph([node], f"{namespace}_{case.op}", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid(namespace, 1)])
    model.ir_version = 8  # loadable by onnxruntime 1.15 (Triton 23.05)
    return model.SerializeToString()


def run_onnxruntime(ort, library: str, model: bytes, inputs, provider="CPUExecutionProvider"):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.register_custom_ops_library(library)
    session = ort.InferenceSession(model, options, providers=[provider])
    return session.run(None, {f"in{i}": a for i, a in enumerate(inputs)})[0]


def verify(framework: str, library: str, ops_dir, namespace: str) -> dict:
    """Every case of every op through `framework`; a summary, never an exception."""
    if framework == "torch":
        import torch

        torch.ops.load_library(library)
        ops = getattr(torch.ops, namespace)
        version = torch.__version__
        run = lambda c: call_torch(ops, c, [torch.from_numpy(a) for a in c.inputs]).numpy()
    elif framework == "tensorflow":
        import tensorflow as tf

        module = tf.load_op_library(library)
        version = tf.__version__
        run = lambda c: call_tensorflow(module, namespace, c, [tf.constant(a) for a in c.inputs]).numpy()
    elif framework == "onnxruntime":
        import onnxruntime as ort

        version = ort.__version__
        run = lambda c: run_onnxruntime(ort, library, onnx_model(c, namespace), c.inputs)
    else:
        raise SystemExit(f"cases.py: cannot verify {framework!r} here")
    summary = {"framework": framework, "version": version, "ops": {},
               "kernels": registered_kernels(framework, namespace, list(op_dirs(ops_dir)))}
    if framework == "torch":  # what a TorchScript model calling the ops is resolved against when it loads
        summary["schemas"] = [str(s) for op in op_dirs(ops_dir)
                              for s in torch._C._jit_get_schemas_for_operator(f"{namespace}::{op}")]
    for op, op_dir in op_dirs(ops_dir).items():
        if not (op_dir / "reference.py").is_file():
            summary["ops"][op] = {"cases": 0, "failures": ["no reference.py: not checked"]}
            continue
        try:
            failures, cases = [], op_cases(op, op_dir)
        except Exception as e:  # reference.py itself is broken
            summary["ops"][op] = {"cases": 0, "failures": [f"{op_dir / 'reference.py'}: {one_line(e)}"]}
            continue
        for case in cases:
            # A kernel that crashes takes this process with it: the line before says in which case.
            print(f"{RUNNING}{case_label(case)}", file=sys.stderr, flush=True)
            try:
                assert_matches(case, run(case))
            except Exception as e:  # a wrong number or a framework error: both are failures
                failures.append(f"{case_label(case)}: {one_line(e)}")
        summary["ops"][op] = {"cases": len(cases), "failures": failures}
    return summary


RUNNING = "opforge case: "


def case_label(case: Case) -> str:
    """The case's id and attributes: cases of one shape told apart, on one line."""
    given = ", ".join(f"{k}={' '.join(repr(v).split())[:40]}" for k, v in case.attrs.items())
    return f"{case.id}{f' ({given})' if given else ''}"


def one_line(e: Exception) -> str:
    """An exception in one line: its type and the first line of its message."""
    return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}".rstrip(": ")


def registered_kernels(framework: str, namespace: str, ops) -> dict | None:
    """{op: the devices it has kernels for} as the loaded framework sees them
    (torch: dispatch keys; TensorFlow: kernel registry device types)."""
    if framework == "torch":
        import torch

        return {op: [k for k in ("CPU", "CUDA", "Meta")
                     if torch._C._dispatch_has_kernel_for_dispatch_key(f"{namespace}::{op}", k)] for op in ops}
    if framework == "tensorflow":
        from tensorflow.python.framework import kernels

        registered = lambda op: kernels.get_registered_kernels_for_op(tf_op_name(namespace, op)).kernel
        return {op: sorted({k.device_type for k in registered(op)}) for op in ops}
    return None


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    print(json.dumps(verify(*sys.argv[1:5])), flush=True)  # before exit: a crash there comes after it

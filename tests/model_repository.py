"""A Triton model repository holding one model of each kind, made with the
real frameworks: an ONNX model, a TorchScript model and a TF SavedModel that
call opforge's ops, and a python-backend model without custom ops."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import library, require_framework, results_of, run_python

CONFIGS = {
    "onnx_clip": '''name: "onnx_clip"
backend: "onnxruntime"
max_batch_size: 0
input [ { name: "x" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ -1 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
''',
    "torch_ops": '''name: "torch_ops"
platform: "pytorch_libtorch"
max_batch_size: 0
input [ { name: "INPUT__0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ -1 ] } ]
''',
    "tf_clip": '''name: "tf_clip"
platform: "tensorflow_savedmodel"
max_batch_size: 0
input [ { name: "x" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "output_0" data_type: TYPE_FP32 dims: [ -1 ] } ]
''',
    "plain": '''name: "plain"
backend: "python"
max_batch_size: 0
input [ { name: "x" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ -1 ] } ]
''',
}

PLAIN_MODEL_PY = '''import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        out = []
        for r in requests:
            x = pb_utils.get_input_tensor_by_name(r, "x").as_numpy()
            out.append(pb_utils.InferenceResponse([pb_utils.Tensor("y", (x * 2).astype(np.float32))]))
        return out
'''

TORCH_SCRIPT = r'''
import sys, json, torch
torch.ops.load_library(sys.argv[1])

class Ops(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.ops.opforge.clip(x, -1.0, 1.0)
        y = torch.ops.opforge.modulo(y, torch.ones_like(y) * 0.75)
        w = torch.ones(y.shape[-1:], dtype=y.dtype)
        return torch.ops.opforge.rms_norm(y.reshape(1, -1), w, 1e-5).reshape(y.shape)

torch.jit.save(torch.jit.script(Ops()), sys.argv[2])
print(json.dumps({"ok": True}))
'''

TF_SCRIPT = r'''
import sys, json, tensorflow as tf
ops = tf.load_op_library(sys.argv[1])

class Clip(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def __call__(self, x):
        return ops.opforge_clip(x, lo=-1.0, hi=1.0)

m = Clip()
tf.saved_model.save(m, sys.argv[2], signatures=m.__call__)
print(json.dumps({"ok": True}))
'''


def onnx_model(path: Path, domain="opforge", op_type="Clip"):
    from onnx import TensorProto, helper

    node = helper.make_node(op_type, ["x"], ["y"], domain=domain, lo=-1.0, hi=1.0)
    graph = helper.make_graph([node], "clip", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(domain, 1)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


def make_repository(root: Path) -> Path:
    """The four models; the TorchScript and TF ones saved by their frameworks
    with opforge's libraries of this installation loaded."""
    require_framework("torch")
    require_framework("tensorflow")
    repo = root / "models"
    for name, text in CONFIGS.items():
        (repo / name / "1").mkdir(parents=True)
        (repo / name / "config.pbtxt").write_text(text)
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx")
    # TorchScript compiles from source text: the script runs from a file, not `python -c`.
    script = root / "save_torchscript.py"
    script.write_text(TORCH_SCRIPT)
    results_of(subprocess.run([sys.executable, str(script), library("torch"), str(repo / "torch_ops" / "1" / "model.pt")],
                              capture_output=True, text=True, timeout=300))
    results_of(run_python(TF_SCRIPT, library("tensorflow"), str(repo / "tf_clip" / "1" / "model.savedmodel")))
    (repo / "plain" / "1" / "model.py").write_text(PLAIN_MODEL_PY)
    return repo


DIST = Path(__file__).resolve().parents[1] / "dist" / "triton-23.05"


def deploy(repo: Path, *extra, libs: Path = DIST) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opforge", "deploy", "--model-repository", str(repo),
                           "--libs", str(libs), *map(str, extra)], capture_output=True, text=True, timeout=300)


def deployed_repository(root: Path) -> Path:
    """make_repository, then `opforge deploy` of dist/triton-23.05 into it
    (skips when that folder was not built)."""
    import pytest

    if not (DIST / "manifest.json").is_file():
        pytest.skip(f"no {DIST}: run `make triton-23.05` first")
    repo = make_repository(root)
    proc = deploy(repo)
    assert proc.returncode == 0, proc.stderr
    return repo


def copy_repository(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, symlinks=True)
    return dest

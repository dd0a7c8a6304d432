"""`opforge check --release` makes a session of every ONNX model in the
release's own onnxruntime (the toolchain `opforge build --release`
provisioned here), with the model's model_operations libraries registered,
as Triton's ONNX Runtime backend does when it loads the model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from onnx import TensorProto, helper, save

from conftest import release_python, results_of, run_python
from opcases import REPO
from test_check import check, problems


DIST = REPO / "dist" / "triton-23.05"
LIBRARY = DIST / "libopforge_onnxruntime.so"
CONFIG = ('name: "{name}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 0\n'
          'model_operations {{ op_library_filename: "{library}" }}\n')

# What the release's onnxruntime itself says of the model, on the CPU.
SESSION = r"""
import json, sys
import onnxruntime as ort
options = ort.SessionOptions()
options.register_custom_ops_library(sys.argv[2])
try:
    ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
    print(json.dumps({"version": ort.__version__, "error": ""}))
except Exception as e:
    print(json.dumps({"version": ort.__version__, "error": str(e)}))
"""


def clip_model(path, elem_type):
    """opforge's Clip on one tensor of `elem_type`, stamped for onnxruntime 1.15."""
    node = helper.make_node("Clip", ["x"], ["y"], domain="opforge", lo=-1.0, hi=1.0)
    graph = helper.make_graph([node], "clip", [helper.make_tensor_value_info("x", elem_type, [None])],
                              [helper.make_tensor_value_info("y", elem_type, [None])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("opforge", 1)])
    model.ir_version = 8
    save(model, str(path))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    if not LIBRARY.is_file():
        pytest.skip(f"no {LIBRARY}: run `make triton-23.05` first")
    repo = tmp_path_factory.mktemp("onnx") / "models"
    # float64: a dtype opforge's Clip has no kernel for; float32: one it has.
    for name, elem_type in (("clip_double", TensorProto.DOUBLE), ("clip_float", TensorProto.FLOAT)):
        (repo / name / "1").mkdir(parents=True)
        (repo / name / "config.pbtxt").write_text(CONFIG.format(name=name, library=LIBRARY))
        clip_model(repo / name / "1" / "model.onnx", elem_type)
    return repo


def test_a_dtype_no_kernel_takes_is_a_problem(repo):
    python = release_python("onnxruntime")
    from opforge.cuda_toolkit import with_cached_runtimes  # the release library's libcudart

    env = with_cached_runtimes({"LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", "")})
    said = {name: results_of(run_python(SESSION, str(repo / name / "1" / "model.onnx"), str(LIBRARY),
                                        python=python, env=env)) for name in ("clip_double", "clip_float")}
    assert said["clip_double"]["version"] == "1.15.0", said
    assert "Could not find an implementation for Clip(1)" in said["clip_double"]["error"], said
    assert said["clip_float"]["error"] == "", said
    lines = problems(check("--model-repository", repo))  # the release: the library's manifest names 23.05
    assert lines == ["model clip_double: clip_double/1/model.onnx does not load in Triton 23.05's ONNX Runtime "
                     "1.15.0 with its model_operations (CPU session): [ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : "
                     "Could not find an implementation for Clip(1) node with name '' (no kernel of that op takes "
                     "the node's input and output types)"], lines


def test_without_the_release_onnxruntime_here_the_check_says_so(repo, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "opforge", "check", "--model-repository", str(repo)],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "empty-cache")))
    assert ("note: the ONNX sessions of clip_double, clip_float: not made in Triton 23.05's ONNX Runtime "
            "(`opforge build --release 23.05` provisions onnxruntime 1.15.0 here)") in proc.stderr.splitlines(), \
        proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr

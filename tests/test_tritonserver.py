"""opforge deploy and check against a real tritonserver (2.51.0 = Triton
24.10, from PyPI's nvidia-pytriton; python backend only, CPU): the deployed
repository parses and loads as Triton sees it, the launch file starts the
server with the torch library preloaded, a duplicate torch namespace aborts
it as `opforge check` predicts, and a python-backend model serves the ops."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tritonserver
from conftest import library, require_framework
from model_repository import copy_repository, deploy, deployed_repository
from opcases import OPS_DIR

import opforge.cases

MISSING_BACKEND = ("Invalid argument: unable to find backend library for backend '{}', "
                   "try specifying runtime on the model configuration.")


@pytest.fixture(scope="module")
def server_ready():
    try:
        tritonserver.server_python()
    except tritonserver.ServerUnavailable as e:
        pytest.skip(f"no tritonserver here: {e}")


@pytest.fixture(scope="module")
def deployed(server_ready, tmp_path_factory):
    return deployed_repository(tmp_path_factory.mktemp("repo"))


def torch_lib_dir() -> str:
    return str(Path(require_framework("torch").__file__).parent / "lib")


def test_deployed_repository_as_the_server_sees_it(deployed):
    """Triton parses every config.pbtxt before it looks for a backend: the
    edited ones parse, only the missing backends fail, and the libraries
    deploy placed are not taken for models."""
    with tritonserver.running_server(deployed) as server:
        models = {m["name"]: m for m in server.models()}
        log = server.log()
    assert sorted(models) == ["onnx_clip", "plain", "tf_clip", "torch_ops"], models
    assert models["plain"]["state"] == "READY"
    for name, backend in (("onnx_clip", "onnxruntime"), ("tf_clip", "tensorflow"), ("torch_ops", "pytorch")):
        assert models[name]["state"] == "UNAVAILABLE"
        assert models[name]["reason"] == MISSING_BACKEND.format(backend), models[name]
    assert "failed to read text proto" not in log and "Poll failed" not in log


def test_launch_file_starts_the_server_with_the_torch_library_preloaded(deployed, tmp_path):
    """The host build's torch library in place of the release's (this server's
    process has pip's torch, not NGC's), pip torch's lib folder on the path."""
    repo = copy_repository(deployed, tmp_path / "models")
    redeploy = deploy(repo)
    assert redeploy.returncode == 0, redeploy.stderr  # the copy's own paths
    shutil.copy(library("torch"), repo / "libopforge_torch.so")
    with tritonserver.running_server(repo, launcher=repo / "opforge-tritonserver.sh",
                                     ld_library_path=[torch_lib_dir()]) as server:
        assert server.model("plain")["state"] == "READY"
        maps = Path(f"/proc/{server.process.pid}/maps").read_text()
    assert str(repo / "libopforge_torch.so") in maps


def test_duplicate_torch_namespace_aborts_the_server_as_check_predicts(deployed, tmp_path):
    repo = copy_repository(deployed, tmp_path / "models")
    ours, theirs = repo / "libopforge_torch.so", repo / "libteam_b_torch.so"
    shutil.copy(library("torch"), ours)
    shutil.copy(library("torch"), theirs)
    predicted = subprocess.run([sys.executable, "-m", "opforge", "check", str(ours), str(theirs)],
                               capture_output=True, text=True, timeout=300)
    assert predicted.returncode == 1 and "torch namespace opforge" in predicted.stdout
    returncode, log = tritonserver.start_and_wait_exit(repo, preload=[ours, theirs],
                                                       ld_library_path=[torch_lib_dir()])
    assert returncode == 134, log[-3000:]
    assert "Only a single TORCH_LIBRARY can be used to register the namespace opforge" in log


PYTHON_OPS_MODEL = '''import json
import sys

import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        # Where opforge and torch are installed (in a Triton container: its own Python).
        params = json.loads(args["model_config"]).get("parameters", {})
        if "python_path" in params:
            sys.path.insert(0, params["python_path"]["string_value"])
        import opforge

        self.ops = opforge.load("torch")

    def execute(self, requests):
        import torch

        out = []
        for r in requests:
            x = torch.from_numpy(pb_utils.get_input_tensor_by_name(r, "x").as_numpy().copy())
            y = self.ops.clip(x, -1.0, 1.0)
            out.append(pb_utils.InferenceResponse([pb_utils.Tensor("y", y.numpy())]))
        return out
'''


def test_python_backend_model_serves_the_ops_over_http(server_ready, tmp_path):
    """The fifth route: a python-backend model that loads opforge in model.py."""
    require_framework("torch")
    repo = tmp_path / "models"
    (repo / "clip_py" / "1").mkdir(parents=True)
    site = str(Path(opforge.__file__).parents[1])  # opforge and torch of this environment
    (repo / "clip_py" / "config.pbtxt").write_text(
        'name: "clip_py"\nbackend: "python"\nmax_batch_size: 0\n'
        'input [ { name: "x" data_type: TYPE_FP32 dims: [ -1 ] } ]\n'
        'output [ { name: "y" data_type: TYPE_FP32 dims: [ -1 ] } ]\n'
        f'parameters {{ key: "python_path" value: {{ string_value: "{site}" }} }}\n')
    (repo / "clip_py" / "1" / "model.py").write_text(PYTHON_OPS_MODEL)
    x = np.array([-3.0, -1.0, -0.25, 0.0, 0.5, 1.0, 7.0, np.nan], dtype=np.float32)
    with tritonserver.running_server(repo) as server:
        assert server.model("clip_py")["state"] == "READY", server.log()[-3000:]
        got = server.infer("clip_py", {"x": x}, ["y"])["y"]
    reference = opforge.cases.load_reference(OPS_DIR / "clip").clip
    np.testing.assert_array_equal(got, reference(x, -1.0, 1.0))

"""`opforge deploy` on a repository with one model of each kind (made by the
real frameworks): what it reads from each model, what it writes, and that a
second run or a missing op changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_repository import DIST, copy_repository, deploy, make_repository, onnx_model

from opforge import model_config

MOUNT = "/models"


@pytest.fixture(scope="module")
def source_repository(tmp_path_factory):
    if not (DIST / "manifest.json").is_file():
        pytest.skip(f"no {DIST}: run `make triton-23.05` first")
    return make_repository(tmp_path_factory.mktemp("source"))


@pytest.fixture
def repo(source_repository, tmp_path):
    return copy_repository(source_repository, tmp_path / "models")


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() + str(p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def launch_environment(repo: Path) -> dict:
    """What the launch file hands the server: its environment and arguments,
    recorded by a stand-in for the binary (TRITONSERVER)."""
    recorder = repo.parent / "record.py"
    recorder.write_text("#!" + sys.executable + "\nimport json, os, sys\n"
                        "print(json.dumps({'LD_PRELOAD': os.environ.get('LD_PRELOAD', ''),"
                        " 'LD_LIBRARY_PATH': os.environ.get('LD_LIBRARY_PATH', ''), 'args': sys.argv[1:]}))\n")
    recorder.chmod(0o755)
    proc = subprocess.run([str(repo / "opforge-tritonserver.sh")], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "TRITONSERVER": str(recorder),
                               "TRITON_BACKENDS": "/opt/tritonserver/backends"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_deploy_wires_every_model_and_nothing_else(repo, source_repository):
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((DIST / "manifest.json").read_text())
    libs = {c["framework"]: c["library"] for c in manifest["libraries"] if c["status"] == "built"}
    # What each model needs, read from its artifact.
    record = json.loads((repo / "opforge-deploy.json").read_text())
    assert record["models"]["onnx_clip"]["needs"] == ["opforge:Clip"]
    assert record["models"]["torch_ops"]["needs"] == ["opforge::clip", "opforge::modulo", "opforge::rms_norm"]
    assert record["models"]["tf_clip"]["needs"] == ["OpforgeClip"]
    assert record["models"]["plain"]["needs"] == []
    # ONNX Runtime and TF configs: model_operations under the mount, every other field as it was.
    for model, fw in (("onnx_clip", "onnxruntime"), ("tf_clip", "tensorflow")):
        before = model_config.read(source_repository / model / "config.pbtxt")
        after = model_config.read(repo / model / "config.pbtxt")
        assert list(after.model_operations.op_library_filename) == [f"{MOUNT}/{libs[fw]}"]
        after.ClearField("model_operations")
        assert after == before
        assert (repo / model / "config.pbtxt.opforge-backup").read_bytes() == \
            (source_repository / model / "config.pbtxt").read_bytes()
    for model in ("plain", "torch_ops"):  # no per-model route: untouched
        assert (repo / model / "config.pbtxt").read_bytes() == (source_repository / model / "config.pbtxt").read_bytes()
    # The libraries the models use, and only those, as files at the repository's root (Triton
    # takes every folder there for a model, hidden ones too).
    assert sorted(p.name for p in repo.iterdir() if p.is_file() and p.suffix == ".so") == sorted(
        libs[fw] for fw in ("onnxruntime", "tensorflow", "torch"))
    assert sorted(p.name for p in repo.iterdir() if p.is_dir()) == sorted(p.name for p in source_repository.iterdir())
    # The launch file: torch preloaded, with the PyTorch backend's libtorch on the path; TF not preloaded.
    env = launch_environment(repo)
    assert env["LD_PRELOAD"].split(":") == [f"{MOUNT}/{libs['torch']}"]
    assert env["LD_LIBRARY_PATH"].split(":")[0] == "/opt/tritonserver/backends/pytorch"
    assert env["args"] == [f"--model-repository={MOUNT}"]


def test_second_run_changes_nothing(repo):
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0, proc.stderr
    assert "nothing to change" in proc.stdout
    assert snapshot(repo) == before


def test_new_mount_replaces_the_old_path_rather_than_adding_a_second_copy(repo):
    assert deploy(repo, "--mount", "/old").returncode == 0
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    ops = model_config.read(repo / "onnx_clip" / "config.pbtxt").model_operations.op_library_filename
    assert len(ops) == 1 and ops[0].startswith(f"{MOUNT}/")  # two copies: "Domain already set in registry"


def test_tensorflow_preload_only_when_asked(repo):
    assert deploy(repo, "--mount", MOUNT, "--preload-tensorflow").returncode == 0
    env = launch_environment(repo)
    assert any(p.endswith("libopforge_tensorflow.so") for p in env["LD_PRELOAD"].split(":"))
    assert "/opt/tritonserver/backends/tensorflow" in env["LD_LIBRARY_PATH"].split(":")


def test_missing_op_stops_with_one_line_and_writes_nothing(repo):
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx", op_type="Frobnicate")
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "onnx_clip" in lines[0] and "opforge:Frobnicate" in lines[0], proc.stderr
    assert snapshot(repo) == before


def test_bad_arguments_say_what_to_do(repo, tmp_path):
    proc = deploy(repo, libs=tmp_path)
    assert proc.returncode == 1 and "no manifest.json" in proc.stderr
    proc = deploy(tmp_path / "nowhere")
    assert proc.returncode == 1 and "no such folder" in proc.stderr

"""`opforge build` end to end, on the pip toolchain's ONNX Runtime cell
(small and quick): a user's ops folder outside the repository, atomic
output, and a release without TensorFlow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from opcases import REPO

from opforge import elf, files

EXAMPLE = REPO / "examples" / "myops"


def opforge_build(*args):
    return subprocess.run([sys.executable, "-m", "opforge", "build", *args], capture_output=True, text=True,
                          timeout=1800)


@pytest.fixture
def user_ops(tmp_path):
    ops = tmp_path / "elsewhere" / "myops"
    shutil.copytree(EXAMPLE, ops)
    return ops


def test_user_ops_folder_outside_the_repo_builds(user_ops, tmp_path):
    out = tmp_path / "dist"
    proc = opforge_build("--release", "23.05", "--ops", str(user_ops), "--out", str(out),
                         "--toolchain", "pip", "--frameworks", "onnxruntime")
    assert proc.returncode == 0, proc.stderr[-4000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["namespace"] == "myops" and manifest["ops"] == ["scale"]
    assert manifest["sources"]["ops_sha256"] == files.tree_sha256(EXAMPLE)  # the ops built: a copy of the example
    (lib,) = manifest["libraries"]
    assert lib["status"] == "built" and lib["library"] == "libmyops_onnxruntime.so"
    checks = {c["check"]: c for c in lib["checks"]}
    assert checks["loads and computes"]["result"] == "passed"
    assert "onnxruntime 1.15.0" in checks["loads and computes"]["detail"]
    snippet = (out / "model_operations.onnxruntime.pbtxt").read_text()
    assert 'op_library_filename: "/opt/opforge/libmyops_onnxruntime.so"' in snippet


def test_failed_build_leaves_the_previous_output(user_ops, tmp_path):
    out = tmp_path / "dist"
    out.mkdir()
    (out / "previous.txt").write_text("still here")
    (out / "manifest.json").write_text('{"libraries": []}')  # an earlier release: a good build may replace it
    (user_ops / "scale" / "scale_cpu.cc").write_text("this is not C++\n")
    proc = opforge_build("--release", "23.05", "--ops", str(user_ops), "--out", str(out),
                         "--toolchain", "pip", "--frameworks", "onnxruntime")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "left as it was" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "previous.txt"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".dist")) == []  # no partial folders


def test_release_without_tensorflow_says_so(tmp_path):
    out = tmp_path / "dist"
    proc = opforge_build("--release", "25.10", "--out", str(out), "--toolchain", "pip",
                         "--frameworks", "tensorflow", "onnxruntime")
    assert proc.returncode == 0, proc.stderr[-4000:]
    libs = {c["framework"]: c for c in json.loads((out / "manifest.json").read_text())["libraries"]}
    assert libs["tensorflow"]["status"] == "not built"
    assert "no TensorFlow backend" in libs["tensorflow"]["reason"]
    assert libs["onnxruntime"]["status"] == "built"
    assert not (out / "libopforge_tensorflow.so").exists()


def test_bad_arguments_say_what_to_do():
    proc = opforge_build("--release", "99.99")
    assert proc.returncode == 2 and "known releases" in proc.stderr
    proc = opforge_build("--release", "23.05", "--sdk", "caffe=/x")
    assert proc.returncode == 2 and "FRAMEWORK=PATH" in proc.stderr


def test_cuda_toolkit_of_the_wrong_major_is_refused(tmp_path):
    from opforge.cuda_toolkit import cache_root

    out = tmp_path / "dist"
    proc = opforge_build("--release", "23.05", "--out", str(out), "--cuda", str(tmp_path / "no-such-toolkit"))
    assert proc.returncode == 2 and "is not a working nvcc" in proc.stderr and "--cuda none" in proc.stderr
    # A CUDA 13 toolkit: the one nvcc on PATH belongs to, or one provisioned for CUDA 13 releases.
    on_path = [Path(shutil.which("nvcc")).resolve().parents[1]] if shutil.which("nvcc") else []
    cuda13 = next((t for t in [*on_path, cache_root() / "13.0"] if (t / "bin" / "nvcc").is_file() and "release 13."
                   in subprocess.run([str(t / "bin" / "nvcc"), "--version"], capture_output=True, text=True).stdout),
                  None)
    if cuda13 is None:
        pytest.skip("no CUDA 13 toolkit here (nvcc on PATH or provisioned) to point CUDA_HOME at")
    proc = subprocess.run([sys.executable, "-m", "opforge", "build", "--release", "23.05", "--out", str(out)],
                          capture_output=True, text=True, env=dict(os.environ, CUDA_HOME=str(cuda13)), timeout=600)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "is CUDA 13.0, but this release is built with CUDA 12.x" in proc.stderr
    assert not out.exists()


def test_cpu_only_on_request_and_what_the_replaced_folder_loses(tmp_path):
    out = tmp_path / "dist"
    out.mkdir()  # an earlier build of two frameworks: this one makes only one of them, and says so
    (out / "manifest.json").write_text(json.dumps({"libraries": [
        {"framework": "onnxruntime", "status": "built"}, {"framework": "torch", "status": "built"},
        {"framework": "tensorrt", "status": "not built"}]}))
    proc = opforge_build("--release", "23.05", "--out", str(out), "--toolchain", "pip", "--frameworks",
                         "onnxruntime", "--cuda", "none")
    assert proc.returncode == 0, proc.stderr[-4000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["cuda_toolkit"] == {"cpu_only_reason": "CPU-only by request (--cuda none)"}
    assert manifest["selftest"]["status"] == "not built"
    (lib,) = manifest["libraries"]
    checks = {c["check"]: c for c in lib["checks"]}
    assert lib["device"].startswith("CPU-only") and checks["CUDA kernels"]["result"] == "not run"
    assert not [n for n in elf.read(out / lib["library"]).needed if "cudart" in n]
    lost = " ".join(proc.stderr.split())
    assert "no longer holds the torch library of an earlier build (not in --frameworks)" in lost, lost[-2000:]
    assert "no longer holds the onnxruntime" not in lost and "no longer holds the tensorrt" not in lost


def test_release_folders_inside_the_ops_folder_are_not_sources(user_ops):
    """`cd myops; opforge build --ops . ...` writes dist/ into the ops folder:
    the libraries of earlier builds are outputs, and must not change the
    recorded sources (nor make every build hash them)."""
    from opforge.release_build import built_from

    before = built_from(REPO, user_ops)
    release = user_ops / "dist" / "myops-triton-23.05"
    release.mkdir(parents=True)
    (release / "manifest.json").write_text('{"libraries": []}')
    (release / "libmyops_onnxruntime.so").write_bytes(b"\x7fELF")
    assert built_from(REPO, user_ops) == before
    (user_ops / "dist" / "notes.txt").write_text("not a release folder: a source like any other")
    assert built_from(REPO, user_ops)["ops_sha256"] != before["ops_sha256"]

"""What `make triton-YY.MM` produced (dist/triton-*/): the manifest tells
the truth about its files and checks, the deploy files are usable, and the
libraries load and compute in the release's runtimes, re-run here
independently of the build."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from google.protobuf import text_format

from conftest import results_of, run_python
from opcases import OPS_DIR, REPO

import opforge.cases
from opforge import artifacts, releases

DISTS = sorted(p.parent for p in (REPO / "dist").glob("triton-*/manifest.json"))
needs_dist = pytest.mark.skipif(not DISTS, reason="no dist/triton-*/manifest.json: run `make triton-23.05` first")


def manifest(dist):
    return json.loads((dist / "manifest.json").read_text())


@needs_dist
@pytest.mark.parametrize("dist", DISTS, ids=lambda p: p.name)
def test_manifest_matches_the_folder(dist):
    m = manifest(dist)
    release = releases.get_release(m["release"]["name"])
    assert dist.name == f"triton-{release.name}"
    libs = {c["framework"]: c for c in m["libraries"]}
    for fw, c in libs.items():
        if c["status"] == "built":
            path = dist / c["library"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == c["sha256"]
            assert c["checks"] and all(k["result"] in ("passed", "not run") for k in c["checks"]), c["checks"]
            assert all(k["detail"] for k in c["checks"])  # every result says what it rests on
        else:
            assert c["reason"] and not (dist / f"lib{m['namespace']}_{fw}.so").exists()
    shipped = {p.name for p in dist.glob("*.so")}
    assert shipped == {c["library"] for c in libs.values() if c["status"] == "built"}
    if not release.has_tensorflow:
        assert "no TensorFlow backend" in libs["tensorflow"]["reason"]


@needs_dist
@pytest.mark.parametrize("dist", DISTS, ids=lambda p: p.name)
def test_deploy_files(dist):
    m = manifest(dist)
    built = {c["framework"]: c["library"] for c in m["libraries"] if c["status"] == "built"}
    env = (dist / "triton.env").read_text()
    for fw in ("torch", "tensorflow", "tensorrt"):
        assert (built.get(fw, "\0") in env) == (fw in built)
    if "torch" in built:
        assert "/opt/tritonserver/backends/pytorch" in env
    config = artifacts._model_config_class()
    for fw in ("onnxruntime", "tensorflow"):
        snippet = dist / f"model_operations.{fw}.pbtxt"
        assert snippet.exists() == (fw in built)
        if fw in built:
            parsed = text_format.Parse(snippet.read_text(), config())
            assert list(parsed.model_operations.op_library_filename) == [f"/opt/opforge/{built[fw]}"]
    assert "## Deploy" in (dist / "README.md").read_text()


@needs_dist
@pytest.mark.parametrize("dist", [d for d in DISTS if d.name == "triton-23.05"] or [None], ids=["triton-23.05"])
def test_23_05_libraries_compute_in_the_release_runtimes(dist):
    if dist is None:
        pytest.skip("no dist/triton-23.05: run `make triton-23.05` first")
    m = manifest(dist)
    libs = {c["framework"]: c for c in m["libraries"]}
    assert libs["tensorrt"]["status"] == "not built" and "TensorRT" in libs["tensorrt"]["reason"]
    torch_checks = {k["check"]: k["result"] for k in libs["torch"]["checks"]}
    assert torch_checks["C++ ABI"] == "passed" and torch_checks["torch symbols"] == "passed"
    # Independently of the build: onnxruntime 1.15.0 from `make test`'s own venv,
    # TensorFlow 2.12.0 from the release toolchain's.
    pythons = {"onnxruntime": os.environ.get("OPFORGE_ORT_COMPAT_PYTHONS", "").split(os.pathsep)[0],
               "tensorflow": str(opforge_toolchain_python("23.05", "tensorflow"))}
    for fw, python in pythons.items():
        if not python or not Path(python).exists():
            pytest.fail(f"no interpreter with the 23.05 {fw} to load {libs[fw]['library']} in")
        got = results_of(run_python(Path(opforge.cases.__file__).read_text(), fw, str(dist / libs[fw]["library"]),
                                    str(OPS_DIR), "opforge", python=python))
        assert got["version"] == {"onnxruntime": "1.15.0", "tensorflow": "2.12.0"}[fw]
        assert all(o["cases"] and not o["failures"] for o in got["ops"].values()), got


def opforge_toolchain_python(release, framework):
    from opforge.toolchains import cache_dir

    return cache_dir() / "toolchains" / f"triton-{release}" / framework / "bin" / "python"

"""What each release's ONNX Runtime reads (releases.toml's [onnxruntime."X.Y.Z"]
rows): a row holds in that runtime wherever one is installed here, and
`opforge check --release` and `opforge deploy` name an ONNX model stamped
above it, before the server refuses to load it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import old_runtime_pythons
from model_repository import CONFIGS, DIST, deploy, onnx_model
from opcases import REPO
from test_check import check, problems

from opforge import releases


def _limits_tool():
    """tools/onnxruntime_limits.py, which measured the rows: its probe, run here."""
    spec = importlib.util.spec_from_file_location("onnxruntime_limits", REPO / "tools" / "onnxruntime_limits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("python", [sys.executable, *old_runtime_pythons()])
def test_the_row_holds_in_that_runtime(python):
    proc = subprocess.run([python, "-c", "import onnx, onnxruntime; print(onnxruntime.__version__)"],
                          capture_output=True, text=True, timeout=120)
    if python == sys.executable and proc.returncode != 0:
        pytest.skip("onnxruntime (or onnx) is not importable here")
    assert proc.returncode == 0, proc.stderr  # an interpreter named to hold them
    version = proc.stdout.strip()
    reads = releases.onnx_reads(version)
    if reads is None:
        pytest.skip(f"onnxruntime {version} ({python}): releases.toml has no row for it")
    got = _limits_tool().probe(python)
    assert (got["version"], got["ir_version"], got["opsets"]) == (version, reads.ir_version, dict(reads.opsets))
    # The refusals one above, which check's and deploy's messages quote.
    assert f"Unsupported model IR version: {reads.ir_version + 1}" in got["refused"]["ir_version"], got
    for domain, newest in reads.opsets.items():
        assert f"Current official support for domain {domain} is till opset {newest}" in got["refused"][domain], got


def test_every_row_is_a_runtime_of_a_release_and_names_its_source():
    shipped = {r.onnxruntime for r in releases.load_releases().values()}
    assert set(releases._data()["onnxruntime"]) <= shipped  # no row for a runtime no release has (or a typo)
    tags = releases.load_sources()
    for version in shipped:
        reads = releases.onnx_reads(version)
        if reads is not None:
            assert reads.source.split(":")[0] in tags and version in reads.source, reads
            assert set(reads.opsets) == {"ai.onnx", "ai.onnx.ml"}, reads
    reads = releases.onnx_reads("1.15.0")
    assert (reads.ir_version, dict(reads.opsets)) == (9, {"ai.onnx": 19, "ai.onnx.ml": 3})
    assert releases.onnx_reads("1.14.1") is None  # no wheel to measure: unknown, not guessed


def stamped_model(repo: Path, name: str, ir_version: int, opsets: dict) -> None:
    """An ONNX model without custom ops (Abs), stamped as asked."""
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Abs", ["x"], ["y"])], name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()])
    model.ir_version = ir_version
    (repo / name / "1").mkdir(parents=True)
    (repo / name / "1" / "model.onnx").write_bytes(model.SerializeToString())
    (repo / name / "config.pbtxt").write_text(f'name: "{name}"\nbackend: "onnxruntime"\nmax_batch_size: 0\n')


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "models"
    stamped_model(repo, "new_ir", 10, {"": 17})
    stamped_model(repo, "new_opset", 9, {"": 20})
    stamped_model(repo, "new_ml_opset", 9, {"": 17, "ai.onnx.ml": 4})
    stamped_model(repo, "fits", 9, {"ai.onnx": 19, "ai.onnx.ml": 3})
    return repo


def test_check_names_the_models_the_release_runtime_refuses(repo):
    lines = problems(check("--model-repository", repo, "--release", "23.05"))
    assert len(lines) == 3, lines
    assert lines[0].startswith("model new_ir: new_ir/1/model.onnx has ONNX IR version 10; Triton 23.05's ONNX "
                               "Runtime 1.15.0 reads 9 at most (the model fails to load: Unsupported model IR "
                               "version): export it for IR version 9"), lines
    assert lines[1] == ("model new_ml_opset: new_ml_opset/1/model.onnx imports ai.onnx.ml opset 4; Triton 23.05's "
                        "ONNX Runtime 1.15.0 reads ai.onnx.ml opset 3 at most (the model fails to load: Current "
                        "official support for domain ai.onnx.ml is till opset 3): export it with ai.onnx.ml opset 3 "
                        "or lower"), lines
    assert lines[2].startswith("model new_opset: new_opset/1/model.onnx imports ai.onnx opset 20; Triton 23.05's "
                               "ONNX Runtime 1.15.0 reads ai.onnx opset 19 at most"), lines
    # A release whose runtime reads them all: nothing to say.
    proc = check("--model-repository", repo, "--release", "24.08")
    assert proc.returncode == 0 and "no problems (0 server-wide libraries, 4 models)" in proc.stdout, proc.stderr


def test_without_a_measured_runtime_the_check_says_it_did_not_check(repo):
    runtime = releases.get_release("23.02").onnxruntime
    assert releases.onnx_reads(runtime) is None, "23.02's runtime was measured: pick a release whose was not"
    proc = check("--model-repository", repo, "--release", "23.02")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (f"note: the ONNX IR version and opset of fits, new_ir, new_ml_opset, new_opset: not checked (what ONNX "
            f"Runtime {runtime} reads was not measured: see releases.toml)") in proc.stderr.splitlines()


def test_deploy_notes_and_check_finds_them_for_the_deployed_release(repo):
    """Deploy notes the models; `opforge check` without --release checks
    for the release the deployed libraries were built for."""
    if not (DIST / "manifest.json").is_file():
        pytest.skip(f"no {DIST}: run `make triton-23.05` first")
    (repo / "onnx_clip" / "config.pbtxt").parent.mkdir()
    (repo / "onnx_clip" / "config.pbtxt").write_text(CONFIGS["onnx_clip"])
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx")  # IR 8, ai.onnx 17: 23.05 reads it
    proc = deploy(repo)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stdout.splitlines() if line.startswith("note: model ")]
    assert [n.split(":")[1].strip() for n in notes] == ["model new_ir", "model new_ml_opset", "model new_opset"], \
        proc.stdout
    assert "reads 9 at most" in notes[0] and "reads ai.onnx opset 19 at most" in notes[2], notes
    proc = check("--model-repository", repo)
    assert [line.split(":")[0] for line in problems(proc)] == ["model new_ir", "model new_ml_opset",
                                                               "model new_opset"], proc.stdout
    assert ("note: checked for Triton 23.05, the release the opforge libraries here were built for (--release "
            "names another)") in proc.stderr.splitlines()


def test_the_release_table_names_what_its_runtime_reads():
    text = releases.format_release(releases.get_release("23.05"))
    assert ("reads ONNX models of IR version <= 9, ai.onnx opset <= 19, ai.onnx.ml opset <= 3 (from ORTM: "
            "onnxruntime==1.15.0 wheel)" in text)
    assert "\n  ORTM: measured" in text  # the tag is explained under Sources
    text = releases.format_release(releases.get_release("23.02"))  # onnxruntime 1.13.1: no wheel to measure
    assert "the ONNX IR versions and opsets it reads: not measured" in text and "ORTM" not in text


def test_libraries_built_for_two_releases_are_checked_for_none(tmp_path):
    if not (DIST / "manifest.json").is_file():
        pytest.skip(f"no {DIST}: run `make triton-23.05` first")
    libs = []
    for name in ("23.05", "24.05"):
        folder = tmp_path / name
        folder.mkdir()
        manifest = json.loads((DIST / "manifest.json").read_text())
        manifest["release"]["name"] = name
        (folder / "manifest.json").write_text(json.dumps(manifest))
        libs.append(folder / "libopforge_onnxruntime.so")
        libs[-1].write_bytes((DIST / libs[-1].name).read_bytes())
    proc = check(*libs)
    assert ("note: the opforge libraries here were built for Triton 23.05 and 24.05: not checked for a release "
            "(--release names the one the server runs)") in proc.stderr.splitlines(), proc.stderr

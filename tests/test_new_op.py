"""`opforge new`: the folder it writes, what it refuses, and that the op it
makes builds for a Triton release and computes there, untouched."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from opcases import REPO


def opforge(*args, cwd=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "opforge", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_writes_the_op_folder_and_lists_it(tmp_path):
    ops = tmp_path / "team-ops"
    proc = opforge("new", "fused_gain", "--ops", str(ops))
    assert proc.returncode == 0, proc.stderr
    folder = ops / "fused_gain"
    assert sorted(p.name for p in folder.iterdir()) == [
        "fused_gain.cu", "fused_gain.h", "fused_gain_cpu.cc", "op.cmake", "reference.py"]
    spec = (folder / "fused_gain.h").read_text()
    assert "namespace team_ops::fused_gain {" in spec and 'kName = "fused_gain"' in spec
    assert (folder / "op.cmake").read_text().strip() == (
        "opforge_op(fused_gain SPEC fused_gain.h KERNELS fused_gain_cpu.cc CUDA fused_gain.cu)")
    assert 'include("${CMAKE_CURRENT_LIST_DIR}/fused_gain/op.cmake")' in (ops / "ops.cmake").read_text()
    assert "def fused_gain(" in (folder / "reference.py").read_text()

    from opforge.cases import op_dirs

    proc = opforge("new", "second", "--ops", str(ops))
    assert proc.returncode == 0, proc.stderr
    assert list(op_dirs(ops)) == ["fused_gain", "second"]  # the order ops.cmake lists them in


def test_in_the_repository_ops_take_the_opforge_namespace(tmp_path):
    from opforge.new_op import cxx_namespace

    assert cxx_namespace(REPO / "ops") == "opforge"
    assert cxx_namespace(tmp_path / "2024ops") == "ops_2024ops"
    # A folder whose name cannot be a namespace: a C++ keyword, or one of torch's own.
    assert cxx_namespace(tmp_path / "class") == "ops_class"
    assert cxx_namespace(tmp_path / "aten") == "ops_aten"
    # Letters outside ASCII are no C identifier: they become _ like any other.
    assert cxx_namespace(tmp_path / "café ops") == "caf_ops" and cxx_namespace(tmp_path / "опы") == "ops_folder"


def test_the_next_step_it_prints_can_be_pasted(tmp_path):
    import shlex

    ops = tmp_path / "team ops"
    proc = opforge("new", "gain", "--ops", str(ops))
    command = proc.stdout.split("`")[1]
    assert shlex.split(command)[:3] == ["opforge", "build", "--ops"] and shlex.split(command)[3] == str(ops)


def test_the_listing_reads_what_cmake_reads(tmp_path):
    """A commented-out op is not built, so it is not listed; quoted file
    names are the same files to CMake."""
    from opforge.cases import op_dirs
    from opforge.ops_folder import check

    ops = tmp_path / "ops"
    for name in ("gain", "conv"):
        assert opforge("new", name, "--ops", str(ops)).returncode == 0
    listing = ops / "ops.cmake"
    listing.write_text(listing.read_text().replace('include("${CMAKE_CURRENT_LIST_DIR}/conv', '# include("${CMAKE_CURRENT_LIST_DIR}/conv'))
    assert list(op_dirs(ops)) == ["gain"]
    (ops / "gain" / "op.cmake").write_text('opforge_op(gain SPEC "gain.h" KERNELS "gain_cpu.cc" CUDA gain.cu)  # quoted\n')
    assert check(ops) == ["gain"]


def test_a_linked_ops_listing_stays_a_link(tmp_path):
    ops = tmp_path / "ops"
    assert opforge("new", "gain", "--ops", str(ops)).returncode == 0
    shared = tmp_path / "shared.cmake"
    (ops / "ops.cmake").rename(shared)
    (ops / "ops.cmake").symlink_to(shared)
    assert opforge("new", "second", "--ops", str(ops)).returncode == 0
    assert (ops / "ops.cmake").is_symlink() and "second/op.cmake" in shared.read_text()


def test_two_names_with_one_camel_case_name_are_refused(tmp_path):
    ops = tmp_path / "ops"
    assert opforge("new", "ab2", "--ops", str(ops)).returncode == 0
    before = snapshot(ops)
    proc = opforge("new", "ab_2", "--ops", str(ops))
    assert proc.returncode == 2 and "Ab2" in proc.stderr, proc.stderr
    assert snapshot(ops) == before


@pytest.mark.parametrize("namespace", ["aten", "class", "Team"])
def test_a_namespace_that_cannot_work_stops_the_build_first(tmp_path, namespace):
    ops = tmp_path / "ops"
    assert opforge("new", "gain", "--ops", str(ops)).returncode == 0
    out = tmp_path / "out"
    proc = opforge("build", "--release", "23.05", "--ops", str(ops), "--namespace", namespace, "--out", str(out))
    assert proc.returncode == 2 and f"namespace {namespace!r}" in proc.stderr, proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["Gain", "gain-2", "2gain", "gain__x", "gain_", "_gain", "class", "std", "",
                                  "constexpr", "nullptr", "char8_t", "map_cpu", "same_shape", "launch_error",
                                  "torch_adapter", "name"])
def test_bad_names_write_nothing(tmp_path, name):
    proc = opforge("new", name, "--ops", str(tmp_path / "ops"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("opforge new: ")
    assert not (tmp_path / "ops").exists()


@pytest.mark.parametrize("char", [";", "\\", '"'])
def test_an_ops_folder_that_could_not_be_built_where_it_is_is_refused(tmp_path, char):
    ops = tmp_path / f"my{char}ops"
    proc = opforge("new", "gain", "--ops", str(ops))
    assert proc.returncode == 2 and f"a path with '{char}' cannot be built" in proc.stderr, proc.stderr
    assert not ops.exists()


def test_an_existing_op_or_a_foreign_folder_is_left_alone(tmp_path):
    ops = tmp_path / "ops"
    assert opforge("new", "gain", "--ops", str(ops)).returncode == 0
    (ops / "gain" / "gain_cpu.cc").write_text("// my kernel\n")
    before = snapshot(ops)
    proc = opforge("new", "gain", "--ops", str(ops))
    assert proc.returncode == 2 and "already exists" in proc.stderr
    assert snapshot(ops) == before

    foreign = tmp_path / "src"
    foreign.mkdir()
    (foreign / "main.cc").write_text("int main() {}\n")
    proc = opforge("new", "gain", "--ops", str(foreign))
    assert proc.returncode == 2 and "not an ops folder" in proc.stderr
    assert [p.name for p in foreign.iterdir()] == ["main.cc"]
    proc = opforge("new", "gain", "--ops", str(foreign / "main.cc"))
    assert proc.returncode == 2 and "is a file" in proc.stderr


def test_generated_op_builds_for_a_release_and_computes_in_each_framework(tmp_path):
    """The acceptance route: an op made by `opforge new`, outside the
    repository, built for Triton 23.05 and run by the release checks in
    onnxruntime 1.15.0, tensorflow-cpu 2.12.0 and the torch stand-in, under
    its folder's own namespace."""
    ops = tmp_path / "elsewhere" / "teamops"
    assert opforge("new", "gain", "--ops", str(ops)).returncode == 0
    out = tmp_path / "dist"
    proc = opforge("build", "--release", "23.05", "--ops", str(ops), "--out", str(out), "--toolchain", "pip",
                   "--frameworks", "torch", "tensorflow", "onnxruntime", timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["namespace"] == "teamops" and manifest["ops"] == ["gain"]
    libs = {lib["framework"]: lib for lib in manifest["libraries"]}
    expected = {"torch": "torch 2.0", "tensorflow": "tensorflow 2.12.0", "onnxruntime": "onnxruntime 1.15.0"}
    for fw, version in expected.items():
        lib = libs[fw]
        assert lib["status"] == "built" and lib["library"] == f"libteamops_{fw}.so", lib
        checks = {c["check"]: c for c in lib["checks"]}
        # torch 2.0's public wheel has the other C++ ABI: its twin runs the cases there.
        computes = checks.get("loads and computes") or checks["twin loads and computes"]
        assert computes["result"] == "passed" and version in computes["detail"], computes


def test_an_op_named_like_a_c_header_builds_beside_others(tmp_path):
    """Op folders are not include paths: string/string.h does not stand in
    for <string.h> in every other source of the build."""
    ops = tmp_path / "hops"
    for name in ("plain", "string"):
        assert opforge("new", name, "--ops", str(ops)).returncode == 0
    out = tmp_path / "dist"
    proc = opforge("build", "--release", "23.05", "--ops", str(ops), "--out", str(out), "--toolchain", "pip",
                   "--frameworks", "onnxruntime", "--cuda", "none", timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    assert json.loads((out / "manifest.json").read_text())["ops"] == ["plain", "string"]
    # The namespace the models call them in, and where it came from (rich wraps the line).
    assert "ops plain, string in namespace hops (from the folder name 'hops'; --namespace NAME chooses another)" \
        in " ".join(proc.stderr.split()), proc.stderr


def test_an_op_whose_tensorflow_python_name_drops_an_underscore_computes(tmp_path):
    """TensorFlow lower-cases OpsConv2d to ops_conv2d, not ops_conv_2d: the
    release checks must call the function tf.load_op_library really made."""
    ops = tmp_path / "ops"
    assert opforge("new", "conv_2d", "--ops", str(ops)).returncode == 0
    out = tmp_path / "dist"
    proc = opforge("build", "--release", "23.05", "--ops", str(ops), "--out", str(out), "--toolchain", "pip",
                   "--frameworks", "tensorflow", "--cuda", "none", timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    lib = json.loads((out / "manifest.json").read_text())["libraries"][0]
    computes = {c["check"]: c for c in lib["checks"]}["loads and computes"]
    assert computes["result"] == "passed" and "tensorflow 2.12.0" in computes["detail"], computes

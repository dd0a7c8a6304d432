"""What `make triton-YY.MM` produced (dist/triton-*/): the manifest tells
the truth about its files and checks, the deploy files are usable, and the
libraries load and compute in the release's runtimes, re-run here
independently of the build."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from google.protobuf import text_format
from packaging.version import Version

from conftest import results_of, run_python
from opcases import OPS_DIR, REPO

import opforge.cases
from opforge import model_config, releases

DISTS = sorted(p.parent for p in (REPO / "dist").glob("triton-*/manifest.json"))
needs_dist = pytest.mark.skipif(not DISTS, reason="no dist/triton-*/manifest.json: run `make triton-23.05` first")


def manifest(dist):
    return json.loads((dist / "manifest.json").read_text())


@needs_dist
@pytest.mark.parametrize("dist", DISTS, ids=lambda p: p.name)
def test_the_folder_is_readable_by_the_servers_user(dist):
    """Mounted into a container, the folder is read by whichever user runs
    tritonserver: it has the modes open() and mkdir() give, not 0700/0600."""
    from opforge.files import umask

    assert dist.stat().st_mode & 0o777 == 0o777 & ~umask()
    for f in dist.iterdir():
        assert f.stat().st_mode & 0o444 == 0o444 & ~umask(), f


@needs_dist
@pytest.mark.parametrize("dist", DISTS, ids=lambda p: p.name)
def test_the_folder_was_built_from_this_checkout(dist):
    """Every other test here reads these files: they must be this checkout's build."""
    from opforge.release_build import built_from

    assert manifest(dist).get("sources") == built_from(REPO, OPS_DIR, REPO / "python" / "opforge"), \
        f"{dist} was built from other sources than this checkout's: run `make {dist.name}`"


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
    # What the server's environment becomes when triton.env is sourced, read by a shell.
    sourced = subprocess.run(["bash", "-c", f'source "{dist / "triton.env"}"; echo "$LD_PRELOAD"; '
                              'echo "$LD_LIBRARY_PATH"'], capture_output=True, text=True,
                             env={"PATH": os.environ["PATH"]})
    assert sourced.returncode == 0, sourced.stderr
    preload, library_path = (line.split(":") for line in sourced.stdout.splitlines())
    at = lambda fw: f"/opt/opforge/{built[fw]}"
    if "torch" in built:
        assert at("torch") in preload and "/opt/tritonserver/backends/pytorch" in library_path
    # TensorFlow goes per model: preloading it breaks the python backend's stub (Triton issue 5507),
    # and a preloaded one would need backends/tensorflow on the library path.
    if "tensorflow" in built:
        assert at("tensorflow") not in preload
        assert at("tensorflow") in (dist / "triton.env").read_text()  # the opt-in, commented
    config = model_config.pb2().ModelConfig
    for fw in ("onnxruntime", "tensorflow"):
        snippet = dist / f"model_operations.{fw}.pbtxt"
        assert snippet.exists() == (fw in built)
        if fw in built:
            parsed = text_format.Parse(snippet.read_text(), config())
            assert list(parsed.model_operations.op_library_filename) == [at(fw)]
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
        # The libraries need the release's libcudart, as Triton's container has it: CUDA 12.1's.
        cudart = m["cuda_runtime"]["libdir"] if "cuda_runtime" in m else None
        got = results_of(run_python(Path(opforge.cases.__file__).read_text(), fw, str(dist / libs[fw]["library"]),
                                    str(OPS_DIR), "opforge", python=python,
                                    env={"LD_LIBRARY_PATH": str(cudart)} if cudart else None))
        assert got["version"] == {"onnxruntime": "1.15.0", "tensorflow": "2.12.0"}[fw]
        assert all(o["cases"] and not o["failures"] for o in got["ops"].values()), got


def opforge_toolchain_python(release, framework):
    from opforge.cache import cache_dir

    return cache_dir() / "toolchains" / f"triton-{release}" / framework / "bin" / "python"


def cuda_dists():
    return [d for d in DISTS if manifest(d).get("cuda_toolkit", {}).get("version")]


@pytest.mark.parametrize("dist", cuda_dists() or [None], ids=lambda p: p.name if p else "none")
def test_release_libraries_carry_cuda_kernels_of_the_release_major(dist):
    """Read back from the files, not from the manifest: each library's SASS
    and PTX (cuobjdump of the toolkit that built it), its one libcudart, and
    its glibc / GLIBCXX needs against the release's Ubuntu."""
    if dist is None:
        pytest.skip("no dist/triton-* built with CUDA: run `make triton-23.05` first")
    from opforge import cuda_toolkit, elf

    m = manifest(dist)
    release = releases.get_release(m["release"]["name"])
    toolkit = Path(m["cuda_toolkit"]["root"])
    if not (toolkit / "bin" / "cuobjdump").is_file():
        pytest.skip(f"the toolkit that built {dist.name} ({toolkit}) is not on this machine")
    want_sass, want_ptx = cuda_toolkit.expected_architectures(
        cuda_toolkit.cuda_architectures(release.version("cuda"), Version(m["cuda_toolkit"]["version"])))
    assert {"75", "80", "86", "89", "90"} <= want_sass and want_ptx == {max(want_sass, key=int)}
    built = [c for c in m["libraries"] if c["status"] == "built"]
    assert {c["framework"] for c in built} >= {"onnxruntime", "torch"}
    cuda = release.version("cuda")  # the runtime the libraries were checked and loaded against: the release's
    assert m["cuda_runtime"]["version"].startswith(f"{cuda.major}.{cuda.minor}."), m["cuda_runtime"]
    for c in built:
        lib = dist / c["library"]
        assert cuda_toolkit.embedded_architectures(lib, toolkit / "bin" / "cuobjdump") == (want_sass, want_ptx), lib
        assert [n for n in elf.read(lib).needed if n.startswith("libcudart")] == \
            [f"libcudart.so.{'11.0' if release.version('cuda').major == 11 else release.version('cuda').major}"]
        assert elf.highest_version(lib, "GLIBC") <= release.version("glibc"), lib
        assert elf.highest_version(lib, "GLIBCXX") <= release.version("glibcxx"), lib
        assert c["cuda_toolkit"]["version"] == m["cuda_toolkit"]["version"]
        names = {k["check"]: k["result"] for k in c["checks"]}
        assert names["CUDA architectures"] == "passed"
        assert names["CUDA runtime symbols"] == "passed", c["checks"]
        if c["framework"] in ("torch", "tensorflow"):
            assert "passed" in (names.get("kernels registered"), names.get("twin kernels registered"))


@pytest.mark.parametrize("dist", cuda_dists() or [None], ids=lambda p: p.name if p else "none")
def test_release_selftest_runs_or_says_there_is_no_gpu(dist):
    if dist is None:
        pytest.skip("no dist/triton-* built with CUDA: run `make triton-23.05` first")
    import sys

    from opforge import elf

    m = manifest(dist)
    assert m["selftest"]["status"] == "built"
    exe = dist / m["selftest"]["file"]
    assert hashlib.sha256(exe.read_bytes()).hexdigest() == m["selftest"]["sha256"]
    assert not [n for n in elf.read(exe).needed if "cudart" in n]  # a driver is all it needs
    assert elf.highest_version(exe, "GLIBC") <= releases.get_release(m["release"]["name"]).version("glibc")
    proc = subprocess.run([sys.executable, "-m", "opforge", "selftest", str(dist), "--no-huge", "--no-bandwidth"],
                          capture_output=True, text=True, timeout=1800)
    from test_selftest import gpu_present

    if gpu_present():
        assert proc.returncode == 0, proc.stdout[-5000:]
    else:
        assert proc.returncode == 2 and "no CUDA device" in proc.stdout, proc.stdout + proc.stderr


def test_the_folder_readme_orders_its_steps_and_names_what_was_built(tmp_path):
    """Configs are edited before the server starts; only built libraries are named."""
    from opforge import artifacts

    toolkit = {"version": "12.4", "root": "/x", "source": "test"}
    manifest = {"release": {"name": "23.05", "server": "2.34.0"}, "namespace": "teamops", "ops": ["soft_sign"],
                "toolchain": "pip", "libraries": [
                    {"framework": "torch", "status": "built", "library": "libteamops_torch.so",
                     "cuda_toolkit": toolkit},
                    {"framework": "onnxruntime", "status": "built", "library": "libteamops_onnxruntime.so",
                     "cuda_toolkit": toolkit},
                    {"framework": "tensorrt", "status": "not built", "reason": "no headers"}],
                "cuda_runtime": {"version": "12.1.105", "libdir": "/y", "source": "test"}}
    artifacts.write_deploy_files(tmp_path, manifest, "/opt/opforge")
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# teamops ops for Triton 23.05")
    assert "opforge deploy --model-repository" in readme
    assert "opforge deploy --model-repository ./models --remove teamops" in readme
    configs, preload = readme.index("2. For each onnxruntime model"), readme.index("3. Preload the PyTorch library")
    assert configs < preload and "TensorRT" not in readme[preload:readme.index("## Libraries")]
    assert "need `libcudart.so.12` where they load" in readme and "12.1.105 or newer" in readme
    # What a model calls the op by, for the frameworks built (names: test_tf_names.py).
    names = readme[readme.index("## Op names"):readme.index("## Deploy")]
    assert "| soft_sign | `torch.ops.teamops.soft_sign` | domain `teamops`, op type `SoftSign` |" in names
    assert "TensorRT" not in names and "tensorrt" not in names
    assert "libteamops_torch.so links against" in (tmp_path / "triton.env").read_text()

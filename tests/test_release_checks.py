"""The match checks of release builds, on real libraries compiled here."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys

import pytest
from packaging.version import Version

import opforge
from opforge import elf, releases
from opforge.release_checks import abi_check, system_checks

R2305 = releases.get_release("23.05")

FRAMEWORK_SRC = """
#include <string>
void use_name(const std::string& s) { (void)s.size(); }
"""
USER_SRC = """
#include <string>
void use_name(const std::string& s);
void missing_function(int);
extern "C" void entry() { use_name("x"); }
"""


def compile_so(tmp_path, name, source, abi, *extra):
    if not shutil.which("g++"):
        pytest.skip("g++ not found")
    src = tmp_path / f"{name}.cc"
    src.write_text(source)
    out = tmp_path / f"lib{name}.so"
    subprocess.run(["g++", "-shared", "-fPIC", f"-D_GLIBCXX_USE_CXX11_ABI={abi}", str(src), "-o", str(out),
                    *extra], check=True)
    return out


def test_abi_of_a_library_is_read_from_its_symbols(tmp_path):
    assert elf.cxx11_abi(compile_so(tmp_path, "new", FRAMEWORK_SRC, 1)) is True
    assert elf.cxx11_abi(compile_so(tmp_path, "old", FRAMEWORK_SRC, 0)) is False


def test_library_with_the_wrong_abi_is_rejected(tmp_path):
    assert R2305.pytorch.cxx11_abi  # NGC libtorch: C++11 ABI
    wrong = abi_check(compile_so(tmp_path, "old", USER_SRC.replace("void missing_function(int);", ""), 0), R2305)
    right = abi_check(compile_so(tmp_path, "new", USER_SRC.replace("void missing_function(int);", ""), 1), R2305)
    assert wrong.passed is False and "pre-C++11" in wrong.detail
    assert right.passed is True


def test_symbols_match_across_string_abis_only_when_they_exist(tmp_path):
    framework = compile_so(tmp_path, "fw", FRAMEWORK_SRC, 0)  # a pre-C++11-ABI "libtorch"
    user = compile_so(tmp_path, "user", USER_SRC.replace("void missing_function(int);", ""), 1)
    assert elf.unresolved_against(user, [framework]) == []  # use_name(std::string) resolves once normalised
    broken = compile_so(tmp_path, "broken", USER_SRC.replace('use_name("x");', 'use_name("x"); missing_function(1);'), 1)
    assert elf.unresolved_against(broken, [framework]) == ["missing_function(int)"]


def test_too_new_glibcxx_is_rejected():
    lib = opforge.library_path("onnxruntime")  # a real library: needs GLIBCXX_3.4.2x
    need = elf.highest_version(lib, "GLIBCXX")
    assert need is not None
    ok = {c.name: c for c in system_checks(lib, R2305)}
    assert ok["glibcxx version"].passed and ok["glibc version"].passed
    old_base = dataclasses.replace(R2305, glibcxx="3.4.19")  # an Ubuntu older than the library allows
    bad = {c.name: c for c in system_checks(lib, old_base)}
    assert bad["glibcxx version"].passed is False and f"GLIBCXX_{need}" in bad["glibcxx version"].detail


def test_unknown_base_is_reported_as_not_run():
    lib = opforge.library_path("onnxruntime")
    checks = {c.name: c for c in system_checks(lib, dataclasses.replace(R2305, glibc="unknown"))}
    assert checks["glibc version"].passed is None  # never claimed


def linked_to_cudart(tmp_path, soname):
    """A library that needs a stand-in CUDA runtime called `soname`."""
    stub = compile_so(tmp_path, "cudart", "extern \"C\" int cudaStub() { return 0; }", 1, f"-Wl,-soname,{soname}")
    (tmp_path / soname).symlink_to(stub)
    return compile_so(tmp_path, "gpuop", "extern \"C\" int cudaStub(); extern \"C\" int f() { return cudaStub(); }",
                      1, f"-L{tmp_path}", f"-l:{soname}")


def test_cuda_runtime_of_another_major_is_rejected(tmp_path):
    user = linked_to_cudart(tmp_path, "libcudart.so.13")
    assert elf.cudart_majors(user) == [13]
    check = {c.name: c for c in system_checks(user, R2305)}["CUDA runtime"]
    assert check.passed is False and "12.1" in check.detail


def test_cuda_11_runtime_soname_is_read(tmp_path):
    """CUDA 11's runtime is libcudart.so.11.0 (12 and 13: libcudart.so.12 / .13)."""
    user = linked_to_cudart(tmp_path, "libcudart.so.11.0")
    assert elf.cudart_majors(user) == [11]
    check = {c.name: c for c in system_checks(user, releases.get_release("22.12"))}["CUDA runtime"]
    assert check.passed is True, check.detail


CUDA_12_4_USER = """
#include <cuda_runtime_api.h>
extern "C" const char* kernel_name(const void* f) { const char* n = nullptr; cudaFuncGetName(&n, f); return n; }
extern "C" int last_error() { return cudaGetLastError(); }
"""


def test_a_runtime_function_newer_than_the_release_s_cuda_is_refused(tmp_path):
    """Every 12.x release is built with CUDA 12.4. A call of cudaFuncGetName
    (CUDA 12.3 on) compiles and links there, but Triton 23.05's CUDA 12.1
    runtime lacks it: the check says so, and the dynamic linker agrees."""
    from opforge import cuda_toolkit
    from opforge.release_checks import runtime_symbols_check

    toolkit = cuda_toolkit.cache_root() / "12.4"
    if not (toolkit / "lib64" / "libcudart.so.12").is_file():
        pytest.skip(f"no CUDA 12.4 toolkit in {toolkit}: `make triton-23.05` provisions it")
    user = compile_so(tmp_path, "newer_runtime_call", CUDA_12_4_USER, 1, f"-I{toolkit / 'include'}",
                      f"-L{toolkit / 'lib64'}", "-lcudart")
    assert elf.read(user).imports["libcudart.so.12"] == {"cudaFuncGetName", "cudaGetLastError"}
    release_runtime = cuda_toolkit.release_runtime(R2305.version("cuda"), log=lambda *_: None)
    assert release_runtime.version.startswith("12.1.")
    check = runtime_symbols_check(user, release_runtime)
    assert check.passed is False, check.detail
    assert "needs cudaFuncGetName from libcudart.so.12" in check.detail and release_runtime.version in check.detail
    toolkit_runtime = cuda_toolkit.Runtime(toolkit / "lib64", "12.4", "the CUDA 12.4 toolkit")
    assert runtime_symbols_check(user, toolkit_runtime).passed is True
    load = [sys.executable, "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])", str(user)]
    for runtime, loads in ((release_runtime, False), (toolkit_runtime, True)):
        proc = subprocess.run(load, capture_output=True, text=True, env={"LD_LIBRARY_PATH": str(runtime.libdir)})
        assert (proc.returncode == 0) == loads and (loads or "cudaFuncGetName" in proc.stderr), proc.stderr


def test_cuda_11_runtime_symbols_are_read_under_its_soname(tmp_path):
    """CUDA 11's runtime is libcudart.so.11.0, its symbols versioned so: a
    library linked against 22.12's own runtime passes, and a CUDA 12 runtime
    is another major."""
    from opforge import cuda_toolkit
    from opforge.release_checks import runtime_symbols_check

    runtime = cuda_toolkit.release_runtime(releases.get_release("22.12").version("cuda"), log=lambda *_: None)
    source = 'extern "C" int cudaGetLastError(); int f() { return cudaGetLastError(); }'
    user = compile_so(tmp_path, "cuda11_user", source, 1, f"-L{runtime.libdir}", "-l:libcudart.so.11.0")
    assert elf.cudart_sonames(user) == ["libcudart.so.11.0"]
    assert elf.read(user).imports["libcudart.so.11.0"] == {"cudaGetLastError"}
    check = runtime_symbols_check(user, runtime)
    assert check.passed is True and "every symbol it needs from libcudart.so.11.0 (1)" in check.detail, check.detail
    newer = cuda_toolkit.release_runtime(R2305.version("cuda"), log=lambda *_: None)
    check = runtime_symbols_check(user, newer)
    assert check.passed is False and "another major" in check.detail, check.detail
    # Linked against a stand-in without symbol versions: what it needs from the runtime is unknown, not fine.
    stand_in = linked_to_cudart(tmp_path, "libcudart.so.12")
    check = runtime_symbols_check(stand_in, newer)
    assert check.passed is None and "not run" in check.detail, check.detail


def test_cuda_architectures_follow_the_release_cuda():
    """SASS for each architecture, PTX for the newest only (for GPUs newer than the list)."""
    from packaging.version import Version

    from opforge.cuda_toolkit import cuda_architectures

    v = Version
    assert cuda_architectures(v("12.1.1"), v("12.4")).split(";") == [
        "70-real", "75-real", "80-real", "86-real", "89-real", "90"]
    assert "70-real" not in cuda_architectures(v("13.0.2"), v("13.0")).split(";")  # Volta left CUDA 13
    assert cuda_architectures(v("12.8"), v("12.8")).endswith("100-real;120")
    # A 12.8 release built with the 12.4 toolkit gets what 12.4 can compile.
    assert "100" not in cuda_architectures(v("12.8"), v("12.4"))


def test_unknown_release_value_stops_that_library_with_the_reason():
    from opforge.toolchains import PipToolchain

    r2507 = releases.get_release("25.07")
    assert r2507.pytorch.ngc == releases.UNKNOWN
    sdk = PipToolchain(r2507).sdk("torch")  # fails before any download
    assert not sdk.available and "25.07" in sdk.reason and "PyTorch" in sdk.reason and "unknown" in sdk.reason


def test_a_tensorflow_without_a_wheel_for_this_python_is_not_built_with_what_to_do():
    """22.12 ships TensorFlow 2.10.1, which PyPI has for Pythons up to 3.10: no other version stands in for it."""
    from opforge.toolchains import PipToolchain

    r2212 = releases.get_release("22.12")
    assert r2212.tensorflow == "2.10.1"
    sdk = PipToolchain(r2212).sdk("tensorflow")  # asks PyPI; installs nothing
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    if py in ("3.8", "3.9", "3.10"):
        pytest.skip(f"PyPI has tensorflow-cpu 2.10.1 for Python {py}")
    assert not sdk.available and not sdk.failed, sdk
    assert sdk.reason.startswith(f"PyPI has no tensorflow-cpu 2.10.1 wheel for Python {py} (the nearest newer one it has is 2.")
    assert sdk.reason.endswith("give --sdk tensorflow=PYTHON, a Python that has TensorFlow 2.10.1, or --toolchain container")


def test_a_python_given_for_tensorflow_must_have_the_release_s_tensorflow(tmp_path):
    """--sdk tensorflow=PYTHON: this test's own interpreter (a virtual environment's python, a link that must not
    be followed), whose TensorFlow is not 23.05's; taken at its word only where the release's is unknown."""
    from opforge.toolchains import ToolchainError, path_sdk

    tf = pytest.importorskip("tensorflow")
    have = tf.__version__
    r2305, unknown = releases.get_release("23.05"), releases.get_release("24.05")
    assert unknown.tensorflow == releases.UNKNOWN
    sdk = path_sdk("tensorflow", sys.executable, r2305)
    if have.startswith("2.12.0"):
        assert sdk.available and sdk.version == have and sdk.match.startswith("same version: TensorFlow 2.12.0")
    else:
        assert not sdk.available
        assert sdk.reason == (f"--sdk tensorflow={sys.executable} has TensorFlow {have}; Triton 23.05 ships 2.12.0, "
                              "and an op library loads only in the TensorFlow it was built against")
    sdk = path_sdk("tensorflow", sys.executable, unknown)
    assert sdk.available and sdk.version == have and sdk.python == sys.executable
    assert sdk.match.endswith("taken at its word: Triton 24.05's TensorFlow version is unknown")
    assert "no TensorFlow backend" in path_sdk("tensorflow", sys.executable, releases.get_release("25.03")).reason
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    with pytest.raises(ToolchainError, match=r"bare/bin/python cannot import tensorflow \(ModuleNotFoundError"):
        path_sdk("tensorflow", str(bare), unknown)  # a virtual environment's folder stands for its python
    with pytest.raises(ToolchainError, match="is not a Python that runs here"):
        path_sdk("tensorflow", str(tmp_path), unknown)


def test_container_toolchain_builds_in_the_release_images(tmp_path):
    """The docker command it would run (no engine is needed to check it)."""
    from opforge.container import ContainerToolchain

    ops = tmp_path / "myops"
    tc = ContainerToolchain(R2305, shared=[ops])
    torch_sdk = tc.sdk("torch")
    assert "nvcr.io/nvidia/pytorch:23.05-py3" in torch_sdk.runner
    assert f"{ops}:{ops}" in torch_sdk.runner  # same paths inside and out
    assert "-DCMAKE_CUDA_ARCHITECTURES=70-real;75-real;80-real;86-real;89-real;90" in torch_sdk.cuda_args  # CUDA 12.1's
    assert "nvcr.io/nvidia/tensorflow:23.05-tf2-py3" in tc.sdk("tensorflow").runner
    assert not ContainerToolchain(releases.get_release("25.10")).sdk("tensorflow").available


def fake_docker(folder, monkeypatch, info_status: int, runtimes: str):
    """A docker command line client whose engine answers `docker info` as told
    (docker itself is not what is under test: opforge's reading of it is)."""
    folder.mkdir(exist_ok=True)
    (folder / "docker").write_text(f"#!/bin/sh\n[ \"$1\" = info ] || exit 2\necho '{runtimes}'\nexit {info_status}\n")
    (folder / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")


@pytest.mark.parametrize("runtimes, gpus", [('{"runc":{}}', False), ('{"nvidia":{},"runc":{}}', True)])
def test_containers_get_gpus_only_where_docker_can_give_them(tmp_path, monkeypatch, runtimes, gpus):
    """Without NVIDIA's container toolkit docker refuses --gpus, and every container build would fail."""
    from opforge.container import ContainerToolchain

    fake_docker(tmp_path / "bin", monkeypatch, 0, runtimes)
    if shutil.which("nvidia-container-runtime-hook"):
        pytest.skip("this machine has NVIDIA's container runtime hook: docker gives GPUs whatever info says")
    runner = ContainerToolchain(R2305, log=lambda *_: None).sdk("torch").runner
    assert (runner[3:5] == ("--gpus", "all")) is gpus, runner


def test_auto_picks_the_container_toolchain_only_where_a_docker_engine_answers(tmp_path, monkeypatch):
    from opforge.toolchains import resolve

    fake_docker(tmp_path / "bin", monkeypatch, 1, "")  # a client without an engine, as on this machine
    assert resolve("auto") == "pip"
    # Asked for by name, the container toolchain is refused before anything is built, with docker's words.
    with pytest.raises(ValueError, match=r"^--toolchain container needs docker with a running engine "
                                         r"\(`docker info` failed: exit 1\): start one, or build with --toolchain pip$"):
        resolve("container")
    fake_docker(tmp_path / "bin", monkeypatch, 0, "{}")
    assert resolve("auto") == "container" and resolve("container") == "container"
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match=r"\(no docker command on PATH\)"):
        resolve("container")


def test_too_new_cxxabi_is_rejected_where_glibcxx_alone_passes(tmp_path):
    """Copying a std::exception_ptr needs CXXABI_1.3.13 (GCC 11's libstdc++)
    and no newer GLIBCXX_ than Ubuntu 20.04's: only the CXXABI ceiling sees it."""
    src = ('#include <exception>\nstd::exception_ptr keep;\n'
           'extern "C" void hold() { std::exception_ptr p = std::current_exception(); keep = p; }\n')
    lib = compile_so(tmp_path, "eptr", src, 1)
    if elf.highest_version(lib, "CXXABI") != Version("1.3.13"):
        pytest.skip("this compiler's libstdc++ does not make exception_ptr copies need CXXABI_1.3.13")
    ubuntu_2004 = dataclasses.replace(R2305, glibcxx="3.4.28", ubuntu="20.04")
    checks = {c.name: c for c in system_checks(lib, ubuntu_2004)}
    assert checks["glibcxx version"].passed is True
    assert checks["cxxabi version"].passed is False and "CXXABI_1.3.13" in checks["cxxabi version"].detail
    assert {c.name: c for c in system_checks(lib, R2305)}["cxxabi version"].passed is True  # 22.04: GCC 12's


def test_a_failed_docker_run_is_reported_by_docker_s_own_error(tmp_path):
    """The container toolchain's builds run under `docker run`: its last line
    is a generic usage hint, its error line the reason."""
    from opforge.release_build import first_error

    if not shutil.which("docker"):
        pytest.skip("no docker command line client here")
    # --pull never: where an engine answers, the missing image is its error, with no registry asked
    proc = subprocess.run(["docker", "run", "--pull", "never", "--rm", "opforge-no-such-image:0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert first_error(proc.stdout + proc.stderr).startswith("docker: "), proc.stderr

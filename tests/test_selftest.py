"""The framework-free GPU self-test: built from the kernel sources with a
CUDA toolkit, it needs only a driver. Without a GPU it must say so (exit 2);
with one it must pass, and must catch a kernel that computes wrongly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from opcases import REPO

from opforge import elf


def gpu_present() -> bool:
    smi = shutil.which("nvidia-smi")
    return bool(smi) and subprocess.run([smi, "-L"], capture_output=True, text=True).stdout.startswith("GPU")


def nvcc_or_skip() -> str:
    """A CUDA toolkit to build with: the provisioned 12.4 (from `make triton-23.05`), else CUDACXX / PATH."""
    from opforge.cuda_toolkit import cache_root

    provisioned = cache_root() / "12.4" / "bin" / "nvcc"
    nvcc = str(provisioned) if provisioned.is_file() else (os.environ.get("CUDACXX") or shutil.which("nvcc"))
    if not nvcc:
        pytest.skip("no CUDA toolkit: neither ~/.cache/opforge/cuda/12.4 (make triton-23.05) nor nvcc on PATH")
    return nvcc


def build_selftest(tmp_path, ops_dir, namespace, nvcc) -> Path:
    build = tmp_path / "build"
    configure = subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(build), "-DOPFORGE_FRAMEWORKS=", f"-DOPFORGE_OPS_DIR={ops_dir}",
         f"-DOPFORGE_NAMESPACE={namespace}", f"-DCMAKE_CUDA_COMPILER={nvcc}", "-DCMAKE_CUDA_ARCHITECTURES=75-real;90",
         "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    proc = subprocess.run(["cmake", "--build", str(build), "--target", "opforge_selftest", "-j",
                           str(os.cpu_count() or 2)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    return build / f"{namespace}_selftest"


def opforge_selftest(folder, *extra):
    return subprocess.run([sys.executable, "-m", "opforge", "selftest", str(folder), *extra],
                          capture_output=True, text=True, timeout=1800)


def test_selftest_needs_only_a_driver_and_reports_its_verdict(tmp_path):
    exe = build_selftest(tmp_path, REPO / "ops", "opforge", nvcc_or_skip())
    needed = elf.read(exe).needed
    assert not [n for n in needed if "cudart" in n], needed  # the runtime is linked in
    proc = opforge_selftest(exe.parent, "--no-huge")
    if gpu_present():
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
        for op in ("clip", "modulo", "rms_norm", "zero_out"):
            assert f"  {op} " in proc.stdout
        assert " misaligned" in proc.stdout and "memcpy GB/s" in proc.stdout
        assert "FAILED" not in proc.stdout
    else:
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "no CUDA device" in proc.stdout


def test_selftest_catches_a_wrong_kernel(tmp_path):
    """A CUDA kernel that is wrong in its last element only (it leaves it
    unwritten) must fail the self-test."""
    ops = tmp_path / "myops"
    shutil.copytree(REPO / "examples" / "myops", ops)
    cu = ops / "scale" / "scale.cu"
    text = cu.read_text()
    assert "a.numel, Scale" in text
    cu.write_text(text.replace("a.numel, Scale", "a.numel - 1, Scale"))
    exe = build_selftest(tmp_path, ops, "myops", nvcc_or_skip())
    proc = subprocess.run([str(exe), "--no-bandwidth"], capture_output=True, text=True, timeout=600)
    if not gpu_present():
        assert proc.returncode == 2 and "no CUDA device" in proc.stdout
        pytest.skip("no GPU here: the wrong kernel cannot be run (exit 2, 'no CUDA device', as it should)")
    assert proc.returncode == 1, proc.stdout
    assert "FAILED" in proc.stdout and "element 1000002" in proc.stdout


def build_check_host(folder: Path) -> Path:
    cxx = shutil.which("c++") or pytest.skip("no C++ compiler (c++) on PATH")
    exe = folder / "check_host"
    build = subprocess.run([cxx, "-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread",
                            f"-I{REPO / 'cpp' / 'include'}", f"-I{REPO / 'cpp'}",
                            str(REPO / "tests" / "selftest_host" / "check_host.cc"), "-o", str(exe)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-4000:]
    return exe


def test_the_host_side_is_split_over_cores_and_finds_the_first_difference(tmp_path):
    """cpp/selftest/host_data.h, on the CPU: the inputs it makes on every core
    are the bytes one core makes, and the comparison names the lowest index
    that differs wherever the chunks fall (tests/selftest_host/check_host.cc)."""
    exe = build_check_host(tmp_path)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.endswith("ok\n"), proc.stdout + proc.stderr
    if os.cpu_count() and os.cpu_count() > 1:
        assert "split 5242883 elements: 1 chunks" not in proc.stdout, proc.stdout  # really split


def test_the_host_side_runs_where_no_thread_can_be_started():
    """A container's pids limit refuses new threads: the host side then runs
    its chunks on the calling thread (std::thread's refusal terminated it).
    The limit is real: RLIMIT_NPROC 1 for an unprivileged user."""
    if os.geteuid() != 0 or not (shutil.which("setpriv") and shutil.which("prlimit")):
        pytest.skip("a process limit on another user needs root, setpriv and prlimit")
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the host side starts no thread to be refused")
    limited = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "prlimit", "--nproc=1"]
    folder = Path(tempfile.mkdtemp(prefix="opforge-nproc-"))  # pytest's tmp_path is root's alone
    try:
        folder.chmod(0o755)
        exe = build_check_host(folder)
        # Under the limit, a shell that runs is refused its subshell: threads count against it alike.
        probe = subprocess.run([*limited, "sh", "-c", "echo runs; (true); echo forked"], capture_output=True,
                               text=True)
        if probe.stdout.split() != ["runs"]:
            pytest.skip(f"the process limit does not refuse a new task here ({probe.stdout}{probe.stderr})")
        proc = subprocess.run([*limited, str(exe)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 and proc.stdout.endswith("ok\n"), proc.stdout + proc.stderr
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_folder_without_a_selftest_says_so(tmp_path):
    proc = opforge_selftest(tmp_path)
    assert proc.returncode == 3 and "no *_selftest" in proc.stderr
    proc = opforge_selftest(tmp_path / "nowhere")
    assert proc.returncode == 3 and "nowhere: no such folder" in proc.stderr
    (tmp_path / "a_file").write_text("")
    proc = opforge_selftest(tmp_path / "a_file")
    assert proc.returncode == 3 and "a_file: not a folder" in proc.stderr
    (tmp_path / "dist").symlink_to(tmp_path / "moved")  # a release folder moved away from under its link
    proc = opforge_selftest(tmp_path / "dist")
    assert proc.returncode == 3 and f"dist: a link to {tmp_path / 'moved'}, which does not exist" in proc.stderr


def test_a_self_test_that_crashes_fails_and_says_so(tmp_path):
    program = tmp_path / "ops_selftest"  # a program killed by a signal, as a crashing self-test is
    program.write_text("#!/bin/sh\necho 'clip float32 n=31: ok'\nkill -SEGV $$\n")
    program.chmod(0o755)
    proc = opforge_selftest(tmp_path)
    assert proc.returncode == 1 and proc.stdout == "clip float32 n=31: ok\n", proc
    assert proc.stderr == "opforge selftest: ops_selftest crashed with SIGSEGV\n"


def test_a_manifest_cannot_point_the_self_test_elsewhere(tmp_path):
    """The self-test is a file of the release folder: a manifest naming
    another path (or a malformed entry) runs nothing."""
    import json

    from opforge.selftest import NO_SELFTEST, main

    for entry in ({"status": "built", "file": "../../../bin/true"}, {"status": "built", "file": "/bin/true"}, "built"):
        (tmp_path / "manifest.json").write_text(json.dumps({"libraries": [], "selftest": entry}))
        assert main(str(tmp_path), []) == NO_SELFTEST, entry


@pytest.mark.parametrize("value, built", [("on", True), ("1", True), ("Off", False), ("maybe", None)])
def test_the_selftest_setting_takes_cmakes_spellings_of_on_and_off(tmp_path, value, built):
    """-DOPFORGE_SELFTEST=on was silently OFF (only "ON" and "AUTO" were
    read); a word that is none of them is an error, not OFF."""
    import json

    build = tmp_path / "build"
    proc = subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(build), "-DOPFORGE_FRAMEWORKS=", f"-DOPFORGE_SELFTEST={value}",
         f"-DCMAKE_CUDA_COMPILER={nvcc_or_skip()}", "-DCMAKE_CUDA_ARCHITECTURES=90"], capture_output=True, text=True)
    if built is None:
        assert proc.returncode != 0 and f"OPFORGE_SELFTEST={value}: expected AUTO, ON or OFF" in proc.stderr
        return
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((build / "build_info.json").read_text())["selftest"]
    assert (report == "built") == built, report

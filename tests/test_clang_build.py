"""A build with Clang: the kernels and the torch, TensorFlow and ONNX Runtime
adapters compile and link, export what the GCC build exports, and compute
every op case in their frameworks.

Clang is Debian bookworm's clang 14, unpacked into opforge's cache (no system
change); it uses this machine's libstdc++, as GCC does. Clang has neither of
GCC's two speed-only kernel flags, and torch's OpenMP runtime is GCC's
libgomp: a Clang build's torch op runs its CPU kernels on one thread, and its
build report says so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from opcases import OPS_DIR, REPO

from opforge import debian, elf
from opforge.cache import cache_dir, staged_folder

SUITE, MAJOR = "bookworm", 14
PACKAGES = [f"clang-{MAJOR}", f"libclang-common-{MAJOR}-dev", f"libclang-cpp{MAJOR}", f"libllvm{MAJOR}", "libz3-4"]
# The packages' libraries are found beside them: they are not where the system's loader looks.
WRAPPER = """#!/bin/sh
root="$(dirname "$(dirname "$(readlink -f "$0")")")"
LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" \\
  exec "$root/usr/lib/llvm-{major}/bin/clang++" "$@"
"""
FRAMEWORKS = [fw for fw in ("torch", "tensorflow", "onnxruntime") if importlib.util.find_spec(fw)]


@pytest.fixture(scope="module")
def clang() -> Path:
    dest = cache_dir() / "test-toolchains" / f"clang-{MAJOR}"
    cxx = dest / "bin" / "clang++"
    if not cxx.is_file():
        try:
            with staged_folder(dest) as stage, tempfile.TemporaryDirectory(prefix="opforge-clang-") as work:
                debs = debian.download(SUITE, PACKAGES, Path(work), components="main", log=lambda *_: None)
                debian.unpack(debs.values(), stage)
                (stage / "bin").mkdir()
                (stage / "bin" / "clang++").write_text(WRAPPER.format(major=MAJOR))
                (stage / "bin" / "clang++").chmod(0o755)
        except debian.DebianError as e:
            pytest.skip(f"clang {MAJOR} cannot be had from Debian {SUITE} here: {e}")
    probe = subprocess.run([str(cxx), "--version"], capture_output=True, text=True)
    assert probe.returncode == 0 and "clang version" in probe.stdout, probe.stdout + probe.stderr
    return cxx


@pytest.fixture(scope="module")
def clang_build(clang, tmp_path_factory) -> tuple[Path, dict]:
    if not FRAMEWORKS:
        pytest.skip("none of torch, tensorflow, onnxruntime is installed here")
    build = tmp_path_factory.mktemp("clang") / "build"
    configure = subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(build), f"-DCMAKE_CXX_COMPILER={clang}",
         f"-DOPFORGE_FRAMEWORKS={';'.join(FRAMEWORKS)}", f"-DOPFORGE_PYTHON={sys.executable}", "-DOPFORGE_CUDA=OFF"],
        capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    compiled = subprocess.run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)],
                              capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stdout[-6000:] + compiled.stderr[-3000:]
    return build, json.loads((build / "build_info.json").read_text())["frameworks"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_clang_builds_the_adapter_with_the_gcc_build_exports(clang_build, framework):
    build, reports = clang_build
    assert reports[framework]["status"] == "BUILT", reports[framework]
    import opforge

    gcc_built = elf.read(Path(opforge.library_path(framework))).exported
    assert elf.read(build / reports[framework]["library"]).exported == gcc_built


def test_clang_torch_build_says_its_cpu_kernels_run_on_one_thread(clang_build):
    if "torch" not in FRAMEWORKS:
        pytest.skip("torch is not installed here")
    import torch

    build, reports = clang_build
    reason = reports["torch"]["reason"]
    if "ATen parallel backend: OpenMP" in torch.__config__.parallel_info():
        assert "CPU kernels on one thread: torch's OpenMP runtime is GCC's" in reason, reason
        # The binary agrees: without _OPENMP, at::parallel_for is its serial path and calls no OpenMP
        # runtime at all (the GCC build calls libgomp's GOMP_parallel; Clang's would call __kmpc_*).
        import opforge

        def openmp_calls(library):
            return sorted(n for n in elf.read(library).undefined if n.startswith(("GOMP_", "__kmpc_", "omp_")))

        assert "GOMP_parallel" in openmp_calls(Path(opforge.library_path("torch")))
        assert openmp_calls(build / reports["torch"]["library"]) == []
    else:
        assert "one thread" not in reason, reason


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_clang_built_library_computes_every_case(clang_build, framework):
    build, reports = clang_build
    library = build / reports[framework]["library"]
    proc = subprocess.run([sys.executable, "-m", "opforge.cases", framework, str(library), str(OPS_DIR), "opforge"],
                          capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["ops"], summary
    for op, result in summary["ops"].items():
        assert result["cases"] > 0 and not result["failures"], (op, result)

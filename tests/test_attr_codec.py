"""decode_attrs (opforge/op_spec.h), the framework-free decoding of TensorRT
8.6's serialized plugin attributes, fuzzed under AddressSanitizer and UBSan
with random, truncated, oversized and corrupt buffers for every op spec: each
is accepted only when well-formed and within the spec, and none is read out
of bounds. No TensorRT needed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from opcases import OPS_DIR, REPO
from opforge.cases import op_dirs


def test_decode_attrs_under_asan(tmp_path):
    cxx = shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler (g++ or clang++) on PATH")
    specs = tmp_path / "specs.inc"
    specs.write_text("".join(f'#include "{d / (d.name + ".h")}"\n' for d in op_dirs(OPS_DIR).values()))
    exe = tmp_path / "fuzz"
    build = subprocess.run([cxx, "-std=c++17", "-O1", "-g", "-fsanitize=address,undefined,float-cast-overflow",
                            "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", f"-I{REPO / 'cpp' / 'include'}",
                            f'-DOPFORGE_FUZZ_SPECS="{specs}"', str(REPO / "tests" / "attr_codec" / "fuzz.cc"),
                            "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-4000:]
    run = subprocess.run([str(exe), "200000"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    lines = run.stdout.splitlines()
    assert len(lines) == len(op_dirs(OPS_DIR)) and all(line.endswith(" 0 broken") for line in lines), run.stdout
    rms = next(line for line in lines if line.startswith("rms_norm"))
    assert " 0 accepted" not in rms and " 0 refused" not in rms, rms  # both sides were reached

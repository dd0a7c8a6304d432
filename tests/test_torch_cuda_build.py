"""The torch adapter built against a CUDA build of torch: CUDA kernels
compiled with nvcc, linked, and registered in torch's dispatcher.

Needs nvcc and an interpreter with a CUDA torch, from OPFORGE_TORCH_CUDA_PYTHON
(CI: `make torch-cuda-venv`, torch 2.14.1 + CUDA 13.0). No GPU needed; where
one is visible, the ops also run on it against the CPU results."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import results_of, run_python
from opcases import REPO

PYTHON = os.environ.get("OPFORGE_TORCH_CUDA_PYTHON", "")

CHILD = r"""
import json, sys, torch
torch.ops.load_library(sys.argv[1])
ops = ["clip", "zero_out", "modulo", "rms_norm"]
out = {"cuda": torch.version.cuda, "registered": {op: {k: torch._C._dispatch_has_kernel_for_dispatch_key(f"opforge::{op}", k)
       for k in ("CPU", "CUDA", "Meta")} for op in ops}}
x = torch.randn(4, 64)
w = torch.randn(64)
cpu = torch.ops.opforge.rms_norm(x, w, 1e-5)
out["cpu_ok"] = bool(torch.allclose(cpu, x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w, atol=1e-5))
if torch.cuda.is_available():
    g = torch.ops.opforge.rms_norm(x.cuda(), w.cuda(), 1e-5).cpu()
    out["gpu_ok"] = bool(torch.allclose(g, cpu, atol=1e-5))
print(json.dumps(out))
"""


def test_torch_adapter_with_cuda_kernels(tmp_path):
    if not PYTHON:
        pytest.skip("OPFORGE_TORCH_CUDA_PYTHON is unset: no CUDA build of torch to build against "
                    "(`make torch-cuda-venv` makes one)")
    nvcc = shutil.which("nvcc")
    if not nvcc:
        pytest.skip("nvcc not found: the CUDA kernels cannot be compiled")
    cmake = Path(PYTHON).parent / "cmake"
    cmake = str(cmake) if cmake.exists() else "cmake"
    build = tmp_path / "build"
    configure = subprocess.run([cmake, "-S", str(REPO), "-B", str(build), "-DOPFORGE_FRAMEWORKS=torch",
                                f"-DOPFORGE_PYTHON={PYTHON}", "-DCMAKE_CUDA_ARCHITECTURES=90",
                                "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    assert "torch: BUILT" in configure.stdout and "; CUDA " in configure.stdout, configure.stdout[-2000:]
    built = subprocess.run([cmake, "--build", str(build), "-j", str(os.cpu_count() or 2)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]
    got = results_of(run_python(CHILD, str(build / "libopforge_torch.so"), python=PYTHON))
    assert got["cuda"], "not a CUDA build of torch"
    for op, keys in got["registered"].items():
        assert keys == {"CPU": True, "CUDA": True, "Meta": True}, (op, keys)
    assert got["cpu_ok"]
    assert got.get("gpu_ok", True)

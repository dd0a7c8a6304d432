"""Shared fixtures. A framework that is not installed skips its tests; a
framework that is installed but whose library was not built fails them,
since `pip install .` must build for every framework it finds."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


def require_framework(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pytest.skip(f"{module} is not installed in this environment ({e})")


def old_runtime_pythons() -> list[str]:
    """Interpreters of older onnxruntime releases, from OPFORGE_ORT_COMPAT_PYTHONS
    (os.pathsep-separated); .ci/run sets it up for onnxruntime 1.15.0."""
    raw = os.environ.get("OPFORGE_ORT_COMPAT_PYTHONS", "")
    return [p for p in raw.split(os.pathsep) if p]


def release_python(venv: str, release: str = "23.05") -> str:
    """The interpreter of the release's toolchain venv `venv` (onnxruntime,
    tensorflow, torch) that `opforge build --release` provisioned here; a
    skip where it has not."""
    from opforge import releases, toolchains

    python = toolchains.PipToolchain(releases.get_release(release)).made(venv)
    if python is None:
        pytest.skip(f"no {venv} toolchain of Triton {release} here (`make triton-{release}` provisions it)")
    return str(python)


def library(framework: str) -> str:
    import opforge

    return str(opforge.library_path(framework))  # raises LibraryNotBuilt: a failure, not a skip


def run_python(code: str, *args: str, python: str = sys.executable, timeout: int = 300,
               env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter, so that a crash in an op fails the
    test instead of killing pytest."""
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.run([python, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def results_of(proc: subprocess.CompletedProcess) -> dict:
    """The JSON object the child printed on its last stdout line."""
    assert proc.returncode == 0, (
        f"child exited with {proc.returncode} (a negative code is a signal: the op crashed)\n"
        f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])

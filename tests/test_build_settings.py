"""Build settings that point the build at SDK folders take effect."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from opcases import REPO

from opforge import elf
from opforge.cache import cache_dir


def configure_onnxruntime(tmp_path, root, name):
    build = tmp_path / name
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "empty-cache"))  # nothing provisioned to fall back on
    env.pop("ONNXRUNTIME_ROOT", None)
    proc = subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), "-DOPFORGE_FRAMEWORKS=onnxruntime",
                           f"-DONNXRUNTIME_ROOT={root}", f"-DOPFORGE_PYTHON={sys.executable}", "-DOPFORGE_CUDA=OFF"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return build, json.loads((build / "build_info.json").read_text())["frameworks"]["onnxruntime"]


def test_onnxruntime_root_is_used(tmp_path):
    headers = cache_dir() / "onnxruntime-headers-debian-trixie" / "include"
    if not (headers / "onnxruntime_c_api.h").is_file():
        pytest.skip(f"no ONNX Runtime headers in {headers} (the installation's build provisions them)")
    root = tmp_path / "onnxruntime-release"
    shutil.copytree(headers, root / "include")
    build, report = configure_onnxruntime(tmp_path, root, "build")
    assert report["status"] == "BUILT", report
    assert f"ONNXRUNTIME_ROOT={root}" in report["reason"]
    proc = subprocess.run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert elf.read(build / "libopforge_onnxruntime.so").exported == {"RegisterCustomOps"}


def test_onnxruntime_root_without_headers_says_so(tmp_path):
    (tmp_path / "not-onnxruntime").mkdir()
    _, report = configure_onnxruntime(tmp_path, tmp_path / "not-onnxruntime", "build")
    assert report["status"] == "SKIPPED" and "holds no onnxruntime_c_api.h" in report["reason"]

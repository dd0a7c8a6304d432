"""Where the built libraries are, and how each framework loads one."""

from __future__ import annotations

import ctypes
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

FRAMEWORKS = ("torch", "tensorflow", "onnxruntime", "tensorrt")
# OPFORGE_LIB_DIR: another build of the libraries (make test-asan runs the tests on sanitized ones).
LIB_DIR = Path(os.environ.get("OPFORGE_LIB_DIR") or Path(__file__).resolve().parent / "lib")


def library_file(namespace: str, framework: str) -> str:
    """The file name a namespace's library for `framework` gets (OUTPUT_NAME in cpp/cmake/OpforgeCommon.cmake)."""
    return f"lib{namespace}_{framework}.so"


class LibraryNotBuilt(RuntimeError):
    """The framework's library is not part of this installation."""


@lru_cache(maxsize=None)
def build_info() -> dict[str, Any]:
    """What the build that produced this installation found and did.

    Written by CMake at configure time (cpp/cmake/OpforgeCommon.cmake).
    """
    path = LIB_DIR / "build_info.json"
    if not path.is_file():
        raise LibraryNotBuilt(
            f"{path} is missing: opforge's libraries were not built. "
            "Install the package with `pip install .` from the opforge checkout."
        )
    return json.loads(path.read_text())


def _check_framework(framework: str) -> None:
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {', '.join(FRAMEWORKS)}")


def library_path(framework: str) -> str:
    """Path of the installed library for `framework`, as a str: what
    tf.load_op_library, torch.ops.load_library, ctypes and ONNX Runtime's
    register_custom_ops_library all take.

    Raises LibraryNotBuilt, naming the reason the build gave, when the
    library was skipped.
    """
    _check_framework(framework)
    report = build_info()["frameworks"].get(framework) or {}
    if report.get("status") != "BUILT":
        reason = report.get("reason", "no record of it in build_info.json")
        raise LibraryNotBuilt(
            f"opforge's {framework} library was not built: {reason}. "
            f"Make {framework} available and reinstall opforge (see `opforge info`)."
        )
    path = LIB_DIR / report["library"]
    if not path.is_file():
        raise LibraryNotBuilt(f"build_info.json lists {path}, but the file is missing")
    return str(path)


def load(framework: str, session_options: Any = None) -> Any:
    """Load the library into its framework and return the framework's handle.

    torch: registers torch.ops.<namespace>.*, returns the op namespace.
    tensorflow: returns the module from tf.load_op_library.
    onnxruntime: registers the library in `session_options` (a new
    SessionOptions when None) and returns them.
    tensorrt: loads it with ctypes so its plugin creators register in
    TensorRT's global registry; returns the CDLL.
    """
    path = library_path(framework)
    namespace = build_info()["namespace"]
    if framework == "torch":
        import torch

        torch.ops.load_library(path)
        return getattr(torch.ops, namespace)
    if framework == "tensorflow":
        import tensorflow as tf

        return tf.load_op_library(path)
    if framework == "onnxruntime":
        import onnxruntime as ort

        options = session_options if session_options is not None else ort.SessionOptions()
        options.register_custom_ops_library(path)
        return options
    import tensorrt  # noqa: F401  (loads libnvinfer, which the plugins register into)

    return ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)

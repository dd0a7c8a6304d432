"""Symbol hygiene of the built libraries (opforge.elf, i.e. pyelftools)."""

from __future__ import annotations

import pytest

import opforge
from conftest import library, require_framework
from opforge import elf

# What each library may export: ORT needs its entry point; torch, TF and
# TensorRT register through static initialisers and need nothing.
ALLOWED_EXPORTS = {"torch": set(), "tensorflow": set(), "onnxruntime": {"RegisterCustomOps"},
                   "tensorrt": set()}


def built(framework: str) -> str:
    """The library; a framework that is installed must have one (conftest's
    rule), except TensorRT, whose headers no package here provides."""
    if framework == "tensorrt":
        try:
            return str(opforge.library_path("tensorrt"))
        except opforge.LibraryNotBuilt as e:
            pytest.skip(str(e))
    if framework != "onnxruntime":  # built from headers alone, runtime or not
        require_framework(framework)
    return library(framework)


@pytest.mark.parametrize("framework", opforge.FRAMEWORKS)
def test_exports_only_entry_points(framework):
    assert elf.read(built(framework)).exported == ALLOWED_EXPORTS[framework]


def test_torch_library_does_not_need_libpython():
    syms = elf.read(built("torch"))
    assert not [n for n in syms.needed if n.startswith(("libpython", "libtorch_python"))], syms.needed
    assert not [s for s in syms.exported if s.startswith("PyInit_")]
    assert any(n.startswith("libc10") for n in syms.needed), syms.needed  # a real torch library

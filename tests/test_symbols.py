"""Symbol hygiene of the built libraries (opforge.elf, i.e. pyelftools)."""

from __future__ import annotations

import pytest

import opforge
from conftest import library, require_framework
from opforge import elf

# What each library may export: ORT needs its entry point, TensorRT its
# loader's (opforge.release_checks.expected_exports); torch and TF register
# through static initialisers and need nothing.
ALLOWED_EXPORTS = {"torch": set(), "tensorflow": set(), "onnxruntime": {"RegisterCustomOps"}}


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
    lib = built(framework)
    if framework == "tensorrt":
        from opforge.release_checks import expected_exports

        allowed = expected_exports("tensorrt", opforge.build_info()["frameworks"]["tensorrt"].get("version", ""))
    else:
        allowed = ALLOWED_EXPORTS[framework]
    assert elf.read(lib).exported == allowed


def test_torch_library_does_not_need_libpython():
    syms = elf.read(built("torch"))
    assert not [n for n in syms.needed if n.startswith(("libpython", "libtorch_python"))], syms.needed
    assert not [s for s in syms.exported if s.startswith("PyInit_")]
    assert any(n.startswith("libc10") for n in syms.needed), syms.needed  # a real torch library


def test_system_runtime_is_found_without_sbin_on_path():
    """A non-root user's PATH on Debian has no /sbin: ldconfig is still found."""
    from conftest import results_of, run_python

    code = "import json; from opforge import elf; print(json.dumps(list(elf.system_runtime())))"
    found = results_of(run_python(code, env={"PATH": "/usr/local/bin:/usr/bin:/bin"}))
    assert any("libc.so.6" in p for p in found) and any("libstdc++.so.6" in p for p in found), found

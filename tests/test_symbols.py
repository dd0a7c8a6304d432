"""Symbol hygiene of the built libraries, read with pyelftools."""

from __future__ import annotations

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

import opforge

# What each library may export: ORT needs its entry point; torch, TF and
# TensorRT register through static initialisers and need nothing.
ALLOWED_EXPORTS = {"torch": set(), "tensorflow": set(), "onnxruntime": {"RegisterCustomOps"},
                   "tensorrt": set()}


def built(framework):
    try:
        return str(opforge.library_path(framework))
    except opforge.LibraryNotBuilt as e:
        pytest.skip(str(e))


def exports_and_needed(path):
    with open(path, "rb") as f:
        elf = ELFFile(f)
        exported = {s.name for s in elf.get_section_by_name(".dynsym").iter_symbols()
                    if s.name and s["st_shndx"] != "SHN_UNDEF"
                    and s["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK")}
        needed = [t.needed for sec in elf.iter_sections() if isinstance(sec, DynamicSection)
                  for t in sec.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
    return exported, needed


@pytest.mark.parametrize("framework", opforge.FRAMEWORKS)
def test_exports_only_entry_points(framework):
    exported, _ = exports_and_needed(built(framework))
    assert exported == ALLOWED_EXPORTS[framework]


def test_torch_library_does_not_need_libpython():
    exported, needed = exports_and_needed(built("torch"))
    assert not [n for n in needed if n.startswith("libpython") or n.startswith("libtorch_python")], needed
    assert not [s for s in exported if s.startswith("PyInit_")]
    assert any(n.startswith("libc10") for n in needed), needed  # a real torch library

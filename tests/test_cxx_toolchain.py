"""Ubuntu 20.04 releases (glibc 2.31): Debian bullseye's g++-10 with a glibc
2.31 sysroot builds libraries that load there, and glibc 2.31's own loader
proves it, or refuses a library built by this machine's newer toolchain."""

from __future__ import annotations

import subprocess

import pytest
from packaging.version import Version

from opforge import cxx_toolchain, elf

# std::string, a thread and a shared_ptr: libstdc++ >= 11 headers on glibc >=
# 2.32 make such code call __libc_single_threaded@GLIBC_2.32.
SOURCE = r"""
#include <memory>
#include <string>
#include <thread>
extern "C" int opforge_probe() {
  auto p = std::make_shared<std::string>(std::to_string(41));
  int r = 0;
  std::thread t([&] { r = std::stoi(*p) + 1; });
  t.join();
  return r;
}
"""


@pytest.fixture(scope="module")
def bullseye():
    try:
        return cxx_toolchain.provision(log=lambda *_: None)
    except cxx_toolchain.CxxError as e:
        if "could not provision" not in str(e):  # downloaded, but it does not work: opforge's fault
            raise
        pytest.skip(f"the bullseye toolchain cannot be downloaded here: {e}")


def compile_with(cxx, tmp_path, name, *flags):
    src = tmp_path / "probe.cc"
    src.write_text(SOURCE)
    out = tmp_path / f"lib{name}.so"
    proc = subprocess.run([str(cxx), "-shared", "-fPIC", "-O2", "-pthread", *flags, str(src), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


def test_release_toolchain_targets_glibc_2_31(bullseye, tmp_path):
    lib = compile_with(bullseye.cxx, tmp_path, "bullseye")
    assert elf.highest_version(lib, "GLIBC") <= Version("2.31")
    assert elf.highest_version(lib, "GLIBCXX") <= Version("3.4.28")
    loaded, said = bullseye.load([lib], [])
    assert loaded, said


def test_glibc_2_31_loader_refuses_a_library_of_this_machine(bullseye, tmp_path):
    lib = compile_with("g++", tmp_path, "host")
    if elf.highest_version(lib, "GLIBC") <= Version("2.31"):
        pytest.skip("this machine's g++ targets glibc <= 2.31 itself: nothing to refuse")
    loaded, said = bullseye.load([lib], [])
    assert not loaded and "GLIBC_2.3" in said, said


def test_needed_only_below_glibc_2_32():
    assert cxx_toolchain.needed_for(Version("2.31"))
    assert not cxx_toolchain.needed_for(Version("2.35"))
    assert not cxx_toolchain.needed_for(None)

"""The C++ toolchain of a release's Ubuntu base, where the host's is too new.

Triton releases on Ubuntu 20.04 (22.12-23.04) have glibc 2.31 and
GLIBCXX_3.4.28. A library compiled here against bookworm's glibc 2.36
headers needs newer symbols (libstdc++ >= 11 headers call
``__libc_single_threaded@GLIBC_2.32`` when they see glibc >= 2.32), so it
would not load there. Debian bullseye's g++-10 with bullseye's glibc 2.31 as
the sysroot builds libraries that do, and its own loader runs a program under
glibc 2.31 without a container: a real load check.

Provisioned like the CUDA toolkits: `apt-get download` + `dpkg -x` into
``~/.cache/opforge/cxx/<name>``, nothing on the system changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from . import debian
from .cache import cache_dir, staged_folder

# glibc of the release's Ubuntu -> (name, Debian suite, g++ version, packages).
BULLSEYE = ("bullseye-gcc10", "bullseye", "10", [
    "gcc-10", "g++-10", "cpp-10", "gcc-10-base", "libstdc++-10-dev", "libgcc-10-dev", "libstdc++6", "libgcc-s1",
    "libc6", "libc6-dev", "linux-libc-dev", "libcrypt-dev", "libcrypt1"])

# Runs the compiler of the sysroot with that sysroot, from wherever the folder is.
WRAPPER = """#!/bin/sh
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/usr/bin/x86_64-linux-gnu-{tool}-{major}" --sysroot="$root" "$@"
"""

LOAD_CHECK_C = r"""
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!dlopen(argv[i], RTLD_NOW | RTLD_LOCAL)) { printf("%s\n", dlerror()); return 1; }
  }
  printf("loaded\n");
  return 0;
}
"""


class CxxError(RuntimeError):
    """No such toolchain could be provisioned; the message says why."""


@dataclass(frozen=True)
class CxxToolchain:
    root: Path
    glibc: Version
    source: str

    @property
    def cxx(self) -> Path:
        return self.root / "bin" / "g++"

    @property
    def cc(self) -> Path:
        return self.root / "bin" / "gcc"

    def cmake_args(self) -> list[str]:
        # Below glibc 2.34 pthread_create lives in libpthread: without
        # -pthread, dlopen of a library that starts threads fails.
        return [f"-DCMAKE_CXX_COMPILER={self.cxx}", f"-DCMAKE_CUDA_HOST_COMPILER={self.cxx}",
                "-DCMAKE_CXX_FLAGS=-pthread", "-DCMAKE_SHARED_LINKER_FLAGS=-pthread",
                "-DCMAKE_EXE_LINKER_FLAGS=-pthread"]

    def as_dict(self) -> dict:
        return {"compiler": f"g++ {BULLSEYE[2]} with a glibc {self.glibc} sysroot", "source": self.source}

    def load(self, libraries: list[Path], library_path: list[Path]) -> tuple[bool, str]:
        """dlopen each library (RTLD_NOW) under this glibc, through its own
        loader: (loaded, what the loader said)."""
        checker = self.root / "opforge-load-check"
        if not checker.is_file():
            with tempfile.TemporaryDirectory() as work:
                src = Path(work) / "load_check.c"
                src.write_text(LOAD_CHECK_C)
                tmp = Path(work) / "load-check"
                proc = subprocess.run([str(self.cc), "-O1", "-o", str(tmp), str(src), "-ldl"],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    raise CxxError(f"cannot build the load checker: {proc.stderr.strip()[-500:]}")
                shutil.copy2(tmp, f"{checker}.{os.getpid()}")  # the cache may be on another file system
                os.replace(f"{checker}.{os.getpid()}", checker)  # whole or not at all, for runs side by side
        dirs = [self.root / "lib/x86_64-linux-gnu", self.root / "usr/lib/x86_64-linux-gnu", *library_path]
        proc = subprocess.run([str(self.root / "lib64/ld-linux-x86-64.so.2"), "--library-path",
                               ":".join(map(str, dirs)), str(checker), *map(str, libraries)],
                              capture_output=True, text=True, timeout=300)
        said = (proc.stdout + proc.stderr).strip()
        return proc.returncode == 0 and said.endswith("loaded"), said[-600:]


def needed_for(glibc: Version | None) -> bool:
    """Whether the release's glibc is older than this host's toolchain can target."""
    return glibc is not None and glibc < Version("2.32")


def provision(log=print) -> CxxToolchain:
    name, suite, major, packages = BULLSEYE
    dest = cache_dir() / "cxx" / name
    stamp = dest / "SOURCE"
    if stamp.is_file() and (dest / "bin/g++").is_file():
        return CxxToolchain(dest, Version("2.31"), stamp.read_text().strip())
    with staged_folder(dest) as stage:
        with tempfile.TemporaryDirectory(prefix="opforge-cxx-") as work:
            try:
                debs = debian.download(suite, packages, Path(work), components="main", log=log)
                debian.unpack(debs.values(), stage)
            except debian.DebianError as e:
                raise CxxError(f"could not provision g++ {major} from Debian {suite}: {e}") from None
        _relative_symlinks(stage)
        (stage / "bin").mkdir()
        for tool, driver in (("g++", "g++"), ("gcc", "gcc")):
            (stage / "bin" / tool).write_text(WRAPPER.format(tool=driver, major=major))
            (stage / "bin" / tool).chmod(0o755)
        probe = subprocess.run([str(stage / "bin/g++"), "--version"], capture_output=True, text=True)
        if probe.returncode != 0:
            raise CxxError(f"the provisioned g++ {major} does not run here: {probe.stderr.strip()[-300:]}")
        source = f"Debian {suite}: " + ", ".join(f"{p} {debian.version_of(d)}" for p, d in debs.items())
        (stage / "SOURCE").write_text(source + "\n")
    log(f"g++ {major} with a glibc 2.31 sysroot ready in {dest}")
    return CxxToolchain(dest, Version("2.31"), source)


def _relative_symlinks(root: Path) -> None:
    """The packages' absolute links (/lib/x86_64-linux-gnu/libpthread.so.0)
    would lead out of the sysroot, to the host's newer glibc."""
    for link in [p for p in root.rglob("*") if p.is_symlink()]:
        target = os.readlink(link)
        if target.startswith("/"):
            link.unlink()
            link.symlink_to(os.path.relpath(root / target.lstrip("/"), link.parent))

"""`opforge selftest [DIR]`: run a build's framework-free GPU self-test.

DIR is a release folder (its manifest names the self-test) or any folder
holding a ``<namespace>_selftest``; without DIR, the one installed with this
package (built when a library of this installation has CUDA kernels). The
program needs only an NVIDIA driver: its CUDA runtime is linked in.

Exit status: 0 every case matched, 1 a mismatch, CUDA error or crash, 2 no usable
CUDA device, 3 no self-test in that folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import files
from .processes import ended

NO_SELFTEST = 3


def find(folder: Path) -> tuple[Path | None, str]:
    """The self-test program in `folder`, or None and why not."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            entry = json.loads(manifest.read_text()).get("selftest") or {}
        except (ValueError, AttributeError):
            entry = None
        if not isinstance(entry, dict):
            return None, f"{manifest} is not an opforge manifest: build the release folder again"
        if entry.get("status") != "built" or not entry.get("file"):
            return None, f"{folder} has no self-test: {entry.get('reason', 'the manifest lists none')}"
        if Path(entry["file"]).name != entry["file"]:  # the manifest names a file of its own folder, nothing else
            return None, f"{manifest} names a self-test outside its folder ({entry['file']!r}): build it again"
        return folder / entry["file"], ""
    found = sorted(folder.glob("*_selftest"))
    if not found:
        return None, (f"{folder} holds no *_selftest program (it is built with CUDA kernels: a release folder "
                      "from `opforge build`, or an installation whose libraries have CUDA kernels)")
    return found[0], ""


def main(folder: str | None, extra: list[str]) -> int:
    if folder is None:
        from ._library import LIB_DIR

        where = LIB_DIR
    else:
        where = Path(folder)
        if not where.is_dir():
            print(f"opforge selftest: {folder}: {files.missing(where, 'folder')}", file=sys.stderr)
            return NO_SELFTEST
    exe, why = find(where)
    if exe is None:
        print(f"opforge selftest: {why}", file=sys.stderr)
        return NO_SELFTEST
    if not exe.is_file():
        print(f"opforge selftest: {exe} is missing", file=sys.stderr)
        return NO_SELFTEST
    sys.stdout.flush()
    try:
        status = subprocess.run([str(exe), *extra]).returncode
    except OSError as e:  # not executable (copied without its mode), or not a program for this machine
        print(f"opforge selftest: {exe} does not run here ({e.strerror}): copy the release folder with its "
              "file modes (cp -p), or run it on an x86-64 Linux machine", file=sys.stderr)
        return NO_SELFTEST
    if status < 0:  # killed by a signal: a crash is a failed self-test, and says so
        print(f"opforge selftest: {exe.name} {ended(status)}", file=sys.stderr)
        return 1
    return status

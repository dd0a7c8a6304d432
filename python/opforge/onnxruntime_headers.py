"""ONNX Runtime's C/C++ API headers for a build, changing nothing on the
system: Debian trixie's libonnxruntime-dev, fetched and unpacked by
opforge.debian into a cache folder. CMake runs this when ONNXRUNTIME_ROOT is
not set (cpp/cmake/Opforge_onnxruntime.cmake); it needs the standard library
only, so any Python of the build can run it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from . import debian
from .cache import staged_folder

PACKAGE = "libonnxruntime-dev"


def provision(dest: Path, suite: str = "trixie") -> Path:
    """The include folder under `dest` (filled once; `dest`/SOURCE names the .deb)."""
    dest = Path(dest)
    if (dest / "include" / "onnxruntime_c_api.h").is_file():
        return dest / "include"
    with tempfile.TemporaryDirectory(prefix="opforge-ort-") as work, staged_folder(dest) as stage:
        debs = debian.download(suite, [PACKAGE], Path(work) / "debs", components="main",
                               log=lambda msg: print(msg, file=sys.stderr))
        debian.unpack(debs.values(), Path(work) / "root")
        header = next((Path(work) / "root").rglob("onnxruntime_c_api.h"), None)
        if header is None:
            raise debian.DebianError(f"{debs[PACKAGE].name} holds no onnxruntime_c_api.h")
        shutil.copytree(header.parent, stage / "include")
        (stage / "SOURCE").write_text(debs[PACKAGE].name + "\n")
    return dest / "include"


if __name__ == "__main__":
    try:
        print(provision(Path(sys.argv[1])))
    except debian.DebianError as e:
        sys.exit(f"{e}; set ONNXRUNTIME_ROOT to an ONNX Runtime release folder instead")

"""A CUDA toolkit of a Triton release's CUDA major, provisioned into a cache.

Nothing on the system changes: the toolkit is unpacked into
``~/.cache/opforge/cuda/<version>`` in the standard layout (bin/, nvvm/,
include/, lib64/) with a private, relocatable ``bin/nvcc.profile``, so CMake
needs only ``-DCMAKE_CUDA_COMPILER=<root>/bin/nvcc``.

| CUDA major | toolkit | from |
|---|---|---|
| 11 | 11.8 | Debian bookworm non-free (nvidia-cuda-toolkit, nvidia-cuda-dev, libcudart11.0) |
| 12 | 12.4 | Debian trixie non-free (the same, libcudart12, libcu++/cub/thrust-dev for nv/target) |
| 13 | the release's minor | PyPI cuda-toolkit[nvcc,cccl] (+ a cuobjdump of that major) |

A 12.4 library runs in every 12.x container (CUDA's minor-version
compatibility) as long as it calls no runtime function newer than the
container's: each library is checked against the libcudart of the release's
own CUDA minor (PyPI's nvidia-cuda-runtime wheel, ``release_runtime``) and
loaded with it. ``CUDA_HOME`` or ``opforge build --cuda DIR`` points at a
toolkit of one's own instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from . import debian
from .cache import cache_dir, staged_folder

# Debian packages per CUDA major: (suite, toolkit version, packages).
DEBIAN = {
    11: ("bookworm", "11.8", ["nvidia-cuda-toolkit", "nvidia-cuda-dev", "libcudart11.0"]),
    12: ("trixie", "12.4", ["nvidia-cuda-toolkit", "nvidia-cuda-dev", "libcudart12",
                            "libcu++-dev", "libcub-dev", "libthrust-dev"]),
}
# NVIDIA's metapackage pins the component wheels of one CUDA release: nvcc,
# crt, nvvm and the runtime (extra nvcc) and the CCCL headers (extra cccl),
# whose wheels carry CCCL's own version from CUDA 13.3 on (13.4 pins
# nvidia-cuda-cccl 13.3.4.3.1), so that no `==13.4.*` of them exists.
PYPI = "cuda-toolkit[nvcc,cccl]"
# Only reads fatbins (the architecture check), so any release of the major
# serves; PyPI has it from 13.2 on.
PYPI_READER = "nvidia-cuda-cuobjdump"

# Written next to nvcc: every path is relative to nvcc's own folder (_HERE_).
NVCC_PROFILE = """\
# Written by opforge: a relocatable profile for this private toolkit.
TOP              = $(_HERE_)/..
NVVMIR_LIBRARY_DIR = $(TOP)/nvvm/libdevice
LD_LIBRARY_PATH += $(TOP)/lib64:
PATH            += $(TOP)/nvvm/bin:$(_HERE_):
INCLUDES        +=  "-I$(TOP)/include" $(_SPACE_)
SYSTEM_INCLUDES +=  "-isystem" "$(TOP)/include/cccl" $(_SPACE_)
LIBRARIES        =+ $(_SPACE_) "-L$(TOP)/lib64/stubs" "-L$(TOP)/lib64"
"""

_BIN_TOOLS = ("nvcc", "ptxas", "fatbinary", "nvlink", "cudafe++", "cuobjdump", "bin2c", "nvprune",
              "nvdisasm", "cu++filt", "__nvcc_device_query")
_LIBS = ("libcudart.so*", "libcudart_static.a", "libcudadevrt.a", "libculibos.a")


class CudaError(RuntimeError):
    """No usable toolkit; the message says what to do."""


@dataclass(frozen=True)
class Toolkit:
    root: Path
    version: Version  # what nvcc reports, e.g. 12.4
    source: str  # where it came from, for the manifest

    @property
    def nvcc(self) -> Path:
        return self.root / "bin" / "nvcc"

    @property
    def cuobjdump(self) -> Path | None:
        p = self.root / "bin" / "cuobjdump"
        return p if p.is_file() else None

    @property
    def libdir(self) -> Path:
        for name in ("lib64", "lib"):
            if (self.root / name).is_dir():
                return self.root / name
        return self.root / "lib64"

    def as_dict(self) -> dict:
        return {"version": str(self.version), "root": str(self.root), "source": self.source}


@dataclass(frozen=True)
class Runtime:
    """The CUDA runtime (libcudart) of a release's CUDA minor, as its container
    has it: what the libraries are checked and loaded against."""

    libdir: Path
    version: str  # the wheel's, e.g. 12.1.105
    source: str

    def as_dict(self) -> dict:
        return {"version": self.version, "libdir": str(self.libdir), "source": self.source}


def runtime_package(cuda: Version) -> str:
    """PyPI's runtime wheel of one CUDA minor (NVIDIA dropped the -cuXX suffix with CUDA 13)."""
    name = "nvidia-cuda-runtime" + (f"-cu{cuda.major}" if cuda.major < 13 else "")
    return f"{name}=={cuda.major}.{cuda.minor}.*"


def release_runtime(cuda: Version, log=print) -> Runtime:
    """The release's libcudart (`cuda`: the release's CUDA version), cached
    on first use: the toolkit a library is compiled with can be newer
    (12.4 for every 12.x release) and its runtime defines more symbols."""
    cached = cached_runtime(cuda)
    if cached is not None:
        return cached
    dest = _runtime_folder(cuda)
    with staged_folder(dest) as stage, tempfile.TemporaryDirectory(prefix="opforge-cudart-") as work:
        requirement = runtime_package(cuda)
        log(f"downloading the CUDA {cuda.major}.{cuda.minor} runtime from PyPI: {requirement}")
        proc = _pip_target(work, [requirement])
        found = sorted(Path(work).glob(f"nvidia/*/lib/libcudart.so.{cuda.major}*"))
        if proc.returncode != 0 or not found:
            said = proc.stderr.strip().splitlines()[-1:] or ["no libcudart in it"]
            raise CudaError(f"could not fetch {requirement} from PyPI ({said[0]})")
        for so in found:
            shutil.move(str(so), stage / so.name)
        version = next(d.name.removesuffix(".dist-info").split("-")[1] for d in Path(work).glob("*.dist-info"))
        source = f"PyPI {requirement.split('==')[0]} {version}"
        (stage / "SOURCE").write_text(source + "\n")
    return Runtime(dest, version, source)


def cached_runtime(cuda: Version) -> Runtime | None:
    """The release's libcudart if an earlier release_runtime fetched it."""
    dest = _runtime_folder(cuda)
    if (dest / "SOURCE").is_file() and list(dest.glob("libcudart.so.*")):
        source = (dest / "SOURCE").read_text().strip()
        return Runtime(dest, source.rsplit(" ", 1)[-1], source)
    return None


def _runtime_folder(cuda: Version) -> Path:
    return cache_dir() / "cudart" / f"{cuda.major}.{cuda.minor}"


def cache_root() -> Path:
    return cache_dir() / "cuda"


def with_cached_runtimes(env: dict) -> dict:
    """`env` with the provisioned toolkits' libraries on LD_LIBRARY_PATH:
    release libraries need their libcudart, as Triton's containers have it."""
    cudart = [str(d) for d in sorted(cache_root().glob("*/lib64"))]
    return dict(env, LD_LIBRARY_PATH=os.pathsep.join([*cudart, env.get("LD_LIBRARY_PATH", "")]).strip(os.pathsep))


def nvcc_version(nvcc: Path) -> Version | None:
    try:
        out = subprocess.run([str(nvcc), "--version"], capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return None
    m = re.search(r"release (\d+\.\d+)", out)
    return Version(m.group(1)) if m else None


def from_folder(folder: str | os.PathLike, source: str) -> Toolkit:
    """A toolkit folder given by the user (bin/nvcc inside)."""
    root = Path(folder).expanduser().resolve()
    nvcc = root / "bin" / "nvcc"
    version = nvcc_version(nvcc) if nvcc.is_file() else None
    if version is None:
        raise CudaError(f"{source}={folder}: {nvcc} is not a working nvcc")
    return Toolkit(root, version, f"{source}={root}")


def for_release(cuda: Version, override: str | None = None, log=print) -> Toolkit:
    """The toolkit to build a release of CUDA `cuda` with: --cuda DIR, else
    CUDA_HOME, else a provisioned one of that major."""
    for given, what in ((override, "--cuda"), (os.environ.get("CUDA_HOME"), "CUDA_HOME")):
        if given:
            tk = from_folder(given, what)
            if tk.version.major != cuda.major:
                raise CudaError(f"{what}={given} is CUDA {tk.version}, but this release is built with CUDA "
                                f"{cuda.major}.x: unset it (opforge then provisions one) or give a CUDA "
                                f"{cuda.major} toolkit")
            return tk
    return provision(cuda, log=log)


def provision(cuda: Version, log=print) -> Toolkit:
    """The cached toolkit for `cuda`'s major, downloaded on first use."""
    if cuda.major in DEBIAN:
        version = DEBIAN[cuda.major][1]
    elif cuda.major >= 13:
        version = f"{cuda.major}.{cuda.minor}"
    else:
        raise CudaError(f"no CUDA {cuda.major} toolkit can be provisioned here (11, 12 and 13+ can): "
                        "set CUDA_HOME or pass --cuda DIR")
    dest = cache_root() / version
    stamp = dest / "SOURCE"
    if stamp.is_file() and (dest / "bin" / "nvcc").is_file():
        v = nvcc_version(dest / "bin" / "nvcc")
        if v is not None:
            return Toolkit(dest, v, stamp.read_text().strip())
    with staged_folder(dest) as stage:
        if cuda.major in DEBIAN:
            source = _from_debian(cuda.major, stage, log)
        else:
            source = _from_pypi(version, stage, log)
        (stage / "bin" / "nvcc.profile").unlink(missing_ok=True)
        (stage / "bin" / "nvcc.profile").write_text(NVCC_PROFILE)
        v = nvcc_version(stage / "bin" / "nvcc")
        if v is None:
            raise CudaError(f"the provisioned nvcc ({source}) does not run here")
        (stage / "SOURCE").write_text(source + "\n")
    log(f"CUDA {v} toolkit ready in {dest}")
    return Toolkit(dest, v, source)


def _from_debian(major: int, stage: Path, log) -> str:
    suite, version, packages = DEBIAN[major]
    with tempfile.TemporaryDirectory(prefix="opforge-cuda-") as work:
        w = Path(work)
        root = w / "root"
        try:
            debs = debian.download(suite, packages, w / "debs", log=log)
            debian.unpack(debs.values(), root)
        except debian.DebianError as e:
            raise CudaError(f"could not provision CUDA {version} from Debian {suite} non-free ({e}); "
                            f"set CUDA_HOME to a CUDA {major} toolkit") from None
        for deb in debs.values():
            deb.unlink()  # the .debs are large; only the unpacked subset is kept
        _assemble(root, stage)
    return (f"Debian {suite} non-free: " +
            ", ".join(f"{p} {debian.version_of(d)}" for p, d in debs.items()))


def _assemble(root: Path, stage: Path) -> None:
    """Debian's layout (nvcc in /usr/lib/nvidia-cuda-toolkit/bin, the other
    tools in /usr/bin, headers in /usr/include, libraries in the multiarch
    folder) -> the standard toolkit layout."""
    toolkit = root / "usr/lib/nvidia-cuda-toolkit"
    bin_ = stage / "bin"
    bin_.mkdir(parents=True)
    for tool in _BIN_TOOLS:
        # /usr/bin/nvcc is a wrapper with absolute paths: take the real one.
        for cand in (toolkit / "bin" / tool, root / "usr/bin" / tool):
            if cand.is_file() and not (tool == "nvcc" and cand.parent == root / "usr/bin"):
                shutil.move(str(cand), bin_ / tool)
                break
    if (toolkit / "bin/crt").is_dir():
        shutil.move(str(toolkit / "bin/crt"), bin_ / "crt")
    (stage / "nvvm/bin").mkdir(parents=True)
    cicc = next((p for p in (toolkit / "bin/cicc", toolkit / "nvvm/bin/cicc") if p.is_file()), None)
    if cicc is None:
        raise CudaError("the Debian toolkit has no cicc")
    shutil.move(str(cicc), stage / "nvvm/bin/cicc")
    libdevice = next((p for p in (toolkit / "libdevice", toolkit / "nvvm/libdevice") if p.is_dir()), None)
    if libdevice is None:
        raise CudaError("the Debian toolkit has no libdevice")
    shutil.move(str(libdevice), stage / "nvvm/libdevice")
    shutil.move(str(root / "usr/include"), stage / "include")
    lib = stage / "lib64"
    (lib / "stubs").mkdir(parents=True)
    multiarch = root / "usr/lib/x86_64-linux-gnu"
    for pattern in _LIBS:
        for f in multiarch.glob(pattern):
            shutil.move(str(f), lib / f.name)
    for f in (multiarch / "stubs").glob("libcuda.so*"):
        shutil.move(str(f), lib / "stubs" / f.name)
    (stage / "lib").symlink_to("lib64")
    if not (bin_ / "nvcc").is_file() or not list(lib.glob("libcudart.so.*")):
        raise CudaError("the Debian packages did not hold nvcc and libcudart")


def _from_pypi(version: str, stage: Path, log) -> str:
    major = version.split(".")[0]
    with tempfile.TemporaryDirectory(prefix="opforge-cuda-") as work:
        reqs = [f"{PYPI}=={version}.*"]
        log(f"downloading CUDA {version} from PyPI: {' '.join(reqs)}")
        proc = _pip_target(work, reqs, deps=True)
        if proc.returncode != 0:
            raise CudaError(f"could not provision CUDA {version} from PyPI "
                            f"({proc.stderr.strip().splitlines()[-1:]}); set CUDA_HOME to a CUDA toolkit")
        tops = sorted(Path(work).glob("nvidia/cu*/bin/nvcc"))
        if not tops:
            raise CudaError(f"PyPI's nvidia-cuda-nvcc {version} has no bin/nvcc")
        top = tops[0].parent.parent
        for sub in ("bin", "nvvm", "include"):
            shutil.move(str(top / sub), stage / sub)
        shutil.move(str(top / "lib"), stage / "lib64")
        (stage / "lib").symlink_to("lib64")
        for so in (stage / "lib64").glob("libcudart.so.*"):
            (stage / "lib64" / "libcudart.so").symlink_to(so.name)
        versions = sorted(d.name.removesuffix(".dist-info").split("-")[1]
                          for d in Path(work).glob("nvidia_cuda_nvcc-*.dist-info"))
    with tempfile.TemporaryDirectory(prefix="opforge-cuobjdump-") as work:  # its own folder: pip replaces nvidia/
        for reader in (f"{PYPI_READER}=={version}.*", f"{PYPI_READER}>={major},<{int(major) + 1}"):
            found = sorted(Path(work).glob("nvidia/cu*/bin/cuobjdump")) if _pip_target(work, [reader]).returncode == 0 else []
            if found:
                shutil.move(str(found[0]), stage / "bin" / "cuobjdump")
                break
        else:
            reader = "no cuobjdump (the architecture check will not run)"
    return f"PyPI: {', '.join(reqs)} (nvcc {', '.join(versions)}); {reader}"


def _pip_target(folder, requirements, deps=False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           *([] if deps else ["--no-deps"]), "--target", str(folder), *requirements],
                          capture_output=True, text=True)


def cuda_architectures(release_cuda: Version, toolkit: Version) -> str:
    """SASS for every architecture that both the release's CUDA and the
    toolkit support and Triton's GPUs use, plus PTX of the newest one (for
    GPUs newer than the list): Volta went away in CUDA 13, Blackwell came
    in 12.8."""
    cuda = min(release_cuda, toolkit)
    archs = ["70"] if cuda.major < 13 else []
    archs += ["75", "80", "86", "89", "90"]
    if cuda >= Version("12.8"):
        archs += ["100", "120"]
    return ";".join([f"{a}-real" for a in archs[:-1]] + [archs[-1]])


def embedded_architectures(library: Path, cuobjdump: Path) -> tuple[set[str], set[str]]:
    """The SASS and PTX architectures in a library's fatbins, read with
    cuobjdump: ({"75", "90", ...}, {"90"})."""
    proc = subprocess.run([str(cuobjdump), "--list-elf", "--list-ptx", str(library)],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and "does not contain device code" not in proc.stderr + proc.stdout:
        raise CudaError(f"cuobjdump {library.name}: {proc.stderr.strip()[-300:]}")
    sass = set(re.findall(r"^ELF file\s+\d+:.*\.sm_(\d+a?)\.cubin$", proc.stdout, re.M))
    ptx = set(re.findall(r"^PTX file\s+\d+:.*\.sm_(\d+a?)\.ptx$", proc.stdout, re.M))
    return sass, ptx


def expected_architectures(architectures: str) -> tuple[set[str], set[str]]:
    """CMAKE_CUDA_ARCHITECTURES ("75-real;90") -> (SASS, PTX) sets."""
    sass, ptx = set(), set()
    for a in architectures.split(";"):
        num, _, kind = a.partition("-")
        if kind in ("", "real"):
            sass.add(num)
        if kind in ("", "virtual"):
            ptx.add(num)
    return sass, ptx

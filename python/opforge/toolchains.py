"""Where a Triton release's framework SDKs come from.

A toolchain turns (release, framework) into an SDK: the CMake settings that
build that framework's library against the release's version, an
interpreter in which the library can be loaded for a numerical check, and
an honest word on how exact the match is.

- pip: a cached virtual environment per release and framework, holding the
  nearest public wheels (e.g. 23.05: tensorflow-cpu 2.12.0, onnxruntime
  1.15.0, torch 2.0.1).
- host: the current environment, used only where its versions are the
  release's.
- path: SDK folders the user points at (--sdk torch=DIR ...), for instance
  copied out of the release's own containers.
- container: the release's NGC images (see docker/); chosen automatically
  when a docker engine answers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from . import cuda_toolkit, elf
from .cache import cache_dir, locked
from .releases import NO_BACKEND, Release

TOOLCHAINS = ("auto", "container", "pip", "host", "path")


@dataclass
class SDK:
    """How to build one framework's library for a release, or why not."""

    framework: str
    available: bool
    reason: str = ""  # why it is not available
    failed: bool = False  # not available because providing it failed (pip, a download): the build fails
    version: str = ""  # what the library is built against
    match: str = ""  # how exactly that matches the release
    cmake_args: list[str] = field(default_factory=list)
    python: str | None = None  # an interpreter with the framework, for loading tests
    libraries: list[str] = field(default_factory=list)  # the framework's own libs (symbol checks)
    cxx11_abi: bool | None = None  # ABI of the framework's libraries found here
    twin_cmake_args: list[str] | None = None  # torch: a build with the stand-in's ABI, to run here
    runner: tuple[str, ...] = ()  # prefix that runs cmake / python where the SDK is (docker run ...)
    cuda_args: list[str] | None = None  # the toolchain's own CUDA settings (None: find a toolkit here)


def docker_problem() -> str | None:
    """Why docker cannot run containers here (no client, or `docker info`'s
    own words: no engine, no permission), or None."""
    if not shutil.which("docker"):
        return "no docker command on PATH"
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"`docker info` did not answer ({e})"
    if proc.returncode == 0:
        return None
    said = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    return f"`docker info` failed: {said[-1] if said else f'exit {proc.returncode}'}"


def resolve(name: str) -> str:
    """`auto`: the exact container toolchain where docker runs, else pip;
    `container` where docker cannot run containers is an error, said first."""
    if name not in TOOLCHAINS:
        raise ValueError(f"unknown toolchain {name!r}; expected one of {', '.join(TOOLCHAINS)}")
    if name in ("auto", "container"):
        problem = docker_problem()
        if problem and name == "container":
            raise ValueError(f"--toolchain container needs docker with a running engine ({problem}): start "
                             "one, or build with --toolchain pip")
        return "pip" if problem else "container"
    return name


# --- CUDA ----------------------------------------------------------------------

@dataclass
class CudaSetup:
    """How a release build compiles CUDA: the toolkit and its CMake settings,
    or why the libraries are CPU-only."""

    args: list[str]
    toolkit: "cuda_toolkit.Toolkit | None" = None
    cpu_only_reason: str = ""
    architectures: str = ""
    runtime: "cuda_toolkit.Runtime | None" = None  # the release's libcudart, when it could be had
    runtime_missing: str = ""  # why not

    @property
    def libcudart_dir(self) -> Path | None:
        """Where the libraries find a libcudart when they are loaded here: the
        release's own, else the toolkit's."""
        return self.runtime.libdir if self.runtime else self.toolkit.libdir if self.toolkit else None


def cuda_setup(release: Release, override: str | None = None, log=print) -> CudaSetup:
    """The release's CUDA major: --cuda DIR, CUDA_HOME, else a provisioned
    toolkit (cuda_toolkit.py). `override` "none" builds CPU-only on purpose.
    Libraries without CUDA kernels do not serve Triton's GPUs, so when no
    toolkit can be had this raises ValueError saying what to do, rather than
    building CPU-only behind the user's back."""
    if override == "none":
        return CudaSetup(["-DOPFORGE_CUDA=OFF"], cpu_only_reason="CPU-only by request (--cuda none)")
    cuda = release.version("cuda")
    try:
        if cuda is None:
            if not override:
                raise cuda_toolkit.CudaError(f"the CUDA version of Triton {release.name} is unknown "
                                             "(opforge releases): pass --cuda DIR with the release's toolkit")
            tk = cuda_toolkit.from_folder(override, "--cuda")
            cuda = tk.version
        else:
            tk = cuda_toolkit.for_release(cuda, override, log=log)
    except cuda_toolkit.CudaError as e:
        raise ValueError(f"{e} (or --cuda none for CPU-only libraries)") from None
    archs = cuda_toolkit.cuda_architectures(cuda, tk.version)
    runtime, missing = None, ""
    if release.version("cuda") is None:
        missing = f"the CUDA version of Triton {release.name} is unknown"
    else:
        try:
            runtime = cuda_toolkit.release_runtime(cuda, log=log)
        except cuda_toolkit.CudaError as e:
            missing = str(e)
    return CudaSetup([f"-DCMAKE_CUDA_COMPILER={tk.nvcc}", f"-DCUDAToolkit_ROOT={tk.root}",
                      f"-DCMAKE_CUDA_ARCHITECTURES={archs}",
                      # the release's frameworks are GPU builds, whatever the stand-ins here are
                      "-DOPFORGE_ADAPTER_CUDA=ON"],
                     toolkit=tk, architectures=archs, runtime=runtime, runtime_missing=missing)


# --- the pip toolchain ------------------------------------------------------------

def _numpy_pin(framework: str, version: Version) -> list[str]:
    """numpy for the checks (torch does not require it); wheels built before
    numpy 2 (mid 2024) fail to import beside it."""
    first_numpy2 = {"torch": Version("2.3"), "onnxruntime": Version("1.19"), "tensorflow": Version("2.18")}
    return ["numpy<2"] if version < first_numpy2[framework] else ["numpy"]


def nearest_wheel(package: str, wanted: Version) -> Version | None:
    """`wanted` if pip can install it for this Python, else the oldest newer
    release that it can (old releases publish no wheels for new Pythons)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "index", "versions", package, "--disable-pip-version-check"],
                          capture_output=True, text=True)
    m = re.search(r"Available versions:\s*(.+)", proc.stdout)
    if not m:  # the index could not be asked: try the version itself
        return wanted
    versions = sorted(Version(x.strip()) for x in m.group(1).split(","))
    candidates = [x for x in versions if x >= wanted and not x.is_prerelease]
    return candidates[0] if candidates else None


class PipToolchain:
    name = "pip"

    def __init__(self, release: Release, log=print):
        self.release = release
        self.log = log
        self.root = cache_dir() / "toolchains" / f"triton-{release.name}"

    def venv(self, name: str, requirements: list[str]) -> Path:
        """A cached virtual environment holding exactly `requirements`."""
        path = self.root / name
        python = path / "bin" / "python"
        stamp = path / ".opforge-requirements"
        wanted = "\n".join(requirements) + "\n"
        with locked(path):  # another opforge run may be making it: wait, then use it
            if stamp.is_file() and stamp.read_text() == wanted and python.exists():
                return python
            return self._make_venv(path, python, stamp, requirements)

    def made(self, name: str) -> Path | None:
        """The python of venv `name` where an earlier run made it whole; None
        otherwise (nothing is made here)."""
        path = self.root / name
        return path / "bin" / "python" if (path / ".opforge-requirements").is_file() else None

    def _make_venv(self, path: Path, python: Path, stamp: Path, requirements: list[str]) -> Path:
        self.log(f"creating {path} with {' '.join(requirements)} (first use: can take minutes)")
        shutil.rmtree(path, ignore_errors=True)
        made = subprocess.run([sys.executable, "-m", "venv", str(path)], capture_output=True, text=True)
        if made.returncode != 0:
            raise ToolchainError(f"{sys.executable} -m venv {path} failed: {made.stderr.strip()[-500:]}")
        proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               *requirements], capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join(line for line in proc.stderr.splitlines() if "WARNING: Location" not in line)[-1500:]
            raise ToolchainError(f"pip could not install {' '.join(requirements)} for Python "
                                 f"{sys.version_info.major}.{sys.version_info.minor}:\n{tail}")
        stamp.write_text("\n".join(requirements) + "\n")  # last: an interrupted install is redone
        return python

    def sdk(self, framework: str) -> SDK:
        try:
            return getattr(self, f"_{framework}")()
        except ToolchainError as e:  # offline, or pip broke: not a reason to ship a release without it
            return SDK(framework, False, reason=str(e), failed=True)
        except ValueError as e:  # the release has no such framework version to build against
            return SDK(framework, False, reason=str(e))

    def _tensorflow(self) -> SDK:
        r = self.release
        if r.tensorflow == NO_BACKEND:
            return SDK("tensorflow", False, reason=f"Triton {r.name} has no TensorFlow backend "
                       "(it was dropped after 25.02), so there is no TensorFlow library to build")
        try:
            version = r.require("tensorflow", "the TensorFlow op library")
        except ValueError as e:
            raise ValueError(f"{e}; where you know it, give --sdk tensorflow=PYTHON, a Python that has it") from None
        nearest = nearest_wheel("tensorflow-cpu", Version(version))
        if nearest != Version(version):  # PyPI answered; op libraries are tied to one TensorFlow (a skip, not a failure)
            py = f"{sys.version_info.major}.{sys.version_info.minor}"
            raise ValueError(f"PyPI has no tensorflow-cpu {version} wheel for Python {py}"
                             + (f" (the nearest newer one it has is {nearest})" if nearest else "")
                             + f", and a TensorFlow op library must be built against Triton {r.name}'s own {version}: "
                             f"give --sdk tensorflow=PYTHON, a Python that has TensorFlow {version}, or --toolchain container")
        python = self.venv("tensorflow", [f"tensorflow-cpu=={version}", *_numpy_pin("tensorflow", Version(version))])
        return SDK("tensorflow", True, version=version,
                   match=f"same version: PyPI tensorflow-cpu {version} (the release ships NGC's {version} build)",
                   cmake_args=[f"-DOPFORGE_PYTHON={python}"], python=str(python))

    def _onnxruntime(self) -> SDK:
        version = self.release.require("onnxruntime", "the ONNX Runtime op library")
        v = Version(version)
        runtime = nearest_wheel("onnxruntime", v)
        if runtime is None:  # PyPI answered: none for this Python (a skip, not a failure)
            raise ValueError(f"no onnxruntime wheel >= {version} for Python "
                                 f"{sys.version_info.major}.{sys.version_info.minor} on PyPI")
        python = self.venv("onnxruntime", [f"onnxruntime=={runtime}",
                                           "onnx==1.16.2" if runtime < Version("1.19") else "onnx",
                                           *_numpy_pin("onnxruntime", runtime)])
        if runtime == v:
            match = (f"exact: tested in onnxruntime {version}, the release's; asks for no ONNX Runtime API "
                     f"newer than {v.minor}, the release's (nor than the headers': see build)")
        else:  # the library negotiates its API, so a newer runtime serves it as the release's would
            match = (f"nearest: asks for no ONNX Runtime API newer than {v.minor} (the release's {version}), tested in "
                     f"onnxruntime {runtime}, the oldest with a wheel for Python "
                     f"{sys.version_info.major}.{sys.version_info.minor} ({version} has none)")
        return SDK("onnxruntime", True, version=version, match=match,
                   cmake_args=[f"-DOPFORGE_ORT_API_VERSION={v.minor}", f"-DOPFORGE_PYTHON={python}"],
                   python=str(python))

    def _torch(self) -> SDK:
        r = self.release
        ngc = r.require("pytorch.ngc", "the PyTorch op library")
        public = r.require("pytorch.public", "the PyTorch op library")
        python = self.venv("torch", [f"torch=={public}", *_numpy_pin("torch", Version(public))])
        site = subprocess.run([str(python), "-c", "import torch, os; print(os.path.dirname(torch.__file__))"],
                              capture_output=True, text=True)
        if site.returncode != 0:
            raise ToolchainError(f"torch {public} does not import in {python}: {site.stderr.strip()[-500:]}")
        return torch_sdk(Path(site.stdout.strip()), r, python=str(python),
                         match=f"nearest public: PyPI torch {public} for NGC {ngc}")

    def _tensorrt(self) -> SDK:
        version = self.release.version("tensorrt")
        return SDK("tensorrt", False, reason=(
            f"TensorRT {version or '(version unknown)'} has no headers on PyPI: pass "
            "--sdk tensorrt=DIR (a TensorRT install of that version, e.g. from the release's "
            "nvcr.io/nvidia/tensorrt image, or its include/ folder for a compile-only check) "
            "or use --toolchain container"))


def torch_sdk(torch_dir: Path, release: Release, python: str | None, match: str) -> SDK:
    """The torch library built with the release's ABI against `torch_dir`;
    when the folder's libraries use the other ABI, plus a twin with theirs."""
    libs = [str(torch_dir / "lib" / "libtorch_cpu.so"), str(torch_dir / "lib" / "libc10.so")]
    for lib in libs:
        if not Path(lib).is_file():
            raise ToolchainError(f"{torch_dir} is not a torch package folder: {lib} is missing")
    if (torch_dir / "lib" / "libc10_cuda.so").is_file():  # a CUDA build: the adapter's CUDA code uses it
        libs.append(str(torch_dir / "lib" / "libc10_cuda.so"))
    libs_abi = elf.cxx11_abi(libs[1])
    if libs_abi is None:
        raise ToolchainError(f"cannot tell the C++ ABI of {libs[1]}")
    want = release.pytorch.cxx11_abi
    version = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", (torch_dir / "version.py").read_text()).group(1)
    base = [f"-DOPFORGE_TORCH_ROOT={torch_dir}", f"-DOPFORGE_TORCH_LIBS_CXX11_ABI={int(libs_abi)}"]
    return SDK("torch", True, version=version, match=match,
               cmake_args=[*base, f"-DOPFORGE_TORCH_CXX11_ABI={int(want)}"], python=python,
               libraries=libs, cxx11_abi=libs_abi,
               twin_cmake_args=None if libs_abi == want else [*base, f"-DOPFORGE_TORCH_CXX11_ABI={int(libs_abi)}"])


class ToolchainError(RuntimeError):
    """An SDK could not be provided; the message says what to do."""


# --- host and path ------------------------------------------------------------------

class HostToolchain:
    """This environment's frameworks: exact only where their versions are the release's."""

    name = "host"

    def __init__(self, release: Release, log=print):
        self.release = release

    def sdk(self, framework: str) -> SDK:
        r = self.release
        if framework == "tensorflow" and r.tensorflow == NO_BACKEND:
            return SDK(framework, False, reason=f"Triton {r.name} has no TensorFlow backend")
        module = {"torch": "torch", "tensorflow": "tensorflow", "onnxruntime": "onnxruntime"}.get(framework)
        if module is None:
            return SDK(framework, False, reason="the host toolchain finds TensorRT only through --sdk tensorrt=DIR")
        probe = subprocess.run([sys.executable, "-c", f"import {module}; print({module}.__version__)"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            return SDK(framework, False, reason=f"{module} is not installed in {sys.executable}")
        have = probe.stdout.strip().split("+")[0]
        key = {"torch": "pytorch.ngc"}.get(framework, framework)
        want = r.require(key, f"the {framework} op library")
        if Version(have).release[:3] != Version(want).release[:3]:
            return SDK(framework, False, reason=f"the host has {module} {have}, Triton {r.name} ships {want}: "
                       "use --toolchain pip or container")
        args = [f"-DOPFORGE_PYTHON={sys.executable}"]
        if framework == "onnxruntime":
            args.append(f"-DOPFORGE_ORT_API_VERSION={Version(want).minor}")
        return SDK(framework, True, version=have, match=f"same version in this environment ({have})",
                   cmake_args=args, python=sys.executable)


def tensorrt_version(root: Path) -> Version | None:
    """major.minor.patch from NvInferVersion.h (8.x: NV_TENSORRT_*, 10.x: TRT_*_ENTERPRISE)."""
    for header in (root / "NvInferVersion.h", root / "include" / "NvInferVersion.h"):
        if header.is_file():
            text = header.read_text(errors="replace")
            parts = []
            for part in ("MAJOR", "MINOR", "PATCH"):
                m = (re.search(rf"#define\s+NV_TENSORRT_{part}\s+(\d+)", text)
                     or re.search(rf"#define\s+TRT_{part}_ENTERPRISE\s+(\d+)", text))
                if not m:
                    return None
                parts.append(m.group(1))
            return Version(".".join(parts))
    return None


def path_sdk(framework: str, location: str, release: Release) -> SDK:
    """An SDK folder given with --sdk FRAMEWORK=DIR."""
    p = Path(location).expanduser().resolve()
    if not p.exists():
        return SDK(framework, False, reason=f"--sdk {framework}={location}: no such file or folder")
    if framework == "tensorrt":
        have = tensorrt_version(p)
        want = release.version("tensorrt")
        if have is None:
            return SDK(framework, False, reason=f"--sdk tensorrt={location}: no NvInferVersion.h with a version in it")
        if want is not None and have.release[:2] != want.release[:2]:
            return SDK(framework, False, reason=f"--sdk tensorrt={location} is TensorRT {have}; "
                       f"Triton {release.name} ships {want}")
        return SDK(framework, True, version=str(have), match=f"TensorRT {have} from {p}",
                   cmake_args=[f"-DTensorRT_ROOT={p}"])
    if framework == "onnxruntime":
        v = release.version("onnxruntime")
        args = [f"-DONNXRUNTIME_ROOT={p}"] + ([f"-DOPFORGE_ORT_API_VERSION={v.minor}"] if v else [])
        return SDK(framework, True, version=str(v), match=f"ONNX Runtime headers from {p}", cmake_args=args)
    if framework == "torch":
        return torch_sdk(p, release, python=None, match=f"torch package folder {p}")
    if framework == "tensorflow":  # not resolved: a virtual environment's python is a link to another
        return _tensorflow_python(Path(location).expanduser().absolute(), location, release)
    return SDK(framework, False, reason=f"unknown framework {framework!r}")


def _tensorflow_python(python: Path, location: str, release: Release) -> SDK:
    """--sdk tensorflow=PYTHON: an interpreter whose TensorFlow is the release's (an op library is tied to one
    TensorFlow); where the release's is unknown, the one given is taken at its word, and the manifest says so."""
    if release.tensorflow == NO_BACKEND:
        return SDK("tensorflow", False, reason=f"--sdk tensorflow={location}: Triton {release.name} has no "
                   "TensorFlow backend (it was dropped after 25.02)")
    if python.is_dir() and (python / "bin" / "python").is_file():  # a virtual environment's folder
        python = python / "bin" / "python"
    try:
        probe = subprocess.run([str(python), "-I", "-c", "import tensorflow as tf; print(tf.__version__)"],
                               capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    except OSError as e:
        raise ToolchainError(f"--sdk tensorflow={location}: {python} is not a Python that runs here "
                             f"({e.strerror or e})") from None
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolchainError(f"--sdk tensorflow={location}: {python} cannot import tensorflow ({last})")
    have = probe.stdout.strip().splitlines()[-1]
    want = release.version("tensorflow")
    if want is not None and Version(have).release[:3] != want.release[:3]:
        return SDK("tensorflow", False, reason=f"--sdk tensorflow={location} has TensorFlow {have}; Triton "
                   f"{release.name} ships {want}, and an op library loads only in the TensorFlow it was built against")
    match = (f"same version: TensorFlow {have} of {python}" if want is not None else
             f"TensorFlow {have} of {python}, taken at its word: Triton {release.name}'s TensorFlow version is unknown")
    return SDK("tensorflow", True, version=have, match=match, cmake_args=[f"-DOPFORGE_PYTHON={python}"],
               python=str(python))

"""The release rules a custom-op library must meet to load in a Triton
release: exported symbols, glibc / GLIBCXX ceilings of the release's Ubuntu,
one CUDA runtime of the release's major, its CUDA architectures, and (PyTorch)
the C++ string ABI of the release's libtorch. Used by `opforge build` on what
it builds and by `opforge check` on any library."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from . import cuda_toolkit, elf

EXPORTS = {"onnxruntime": {"RegisterCustomOps"}, "torch": set(), "tensorflow": set()}


def expected_exports(framework: str, version: str = "") -> set[str]:
    """What a library may export: ONNX Runtime's entry point; for TensorRT, what
    its own loader (IPluginRegistry::loadLibrary, trtexec --dynamicPlugins)
    looks up, by the major version of the headers it was built with."""
    if framework == "tensorrt":
        major = int(version.split(".")[0]) if version[:1].isdigit() else 10
        return {"getCreators" if major >= 10 else "getPluginCreators", "setLoggerFinder"}
    return EXPORTS[framework]


@dataclass
class Check:
    name: str
    passed: bool | None  # None: did not run
    detail: str

    def as_dict(self):
        status = "not run" if self.passed is None else ("passed" if self.passed else "FAILED")
        return {"check": self.name, "result": status, "detail": self.detail}


# The C++ runtime ABI version that ships with each libstdc++ (GLIBCXX_ -> CXXABI_): the libstdc++ manual's
# ABI policy, symbol-version history (https://gcc.gnu.org/onlinedocs/libstdc++/manual/abi.html): GCC 10.1.0
# GLIBCXX_3.4.28, CXXABI_1.3.12; GCC 12.1.0 GLIBCXX_3.4.30, CXXABI_1.3.13; GCC 14.1.0 GLIBCXX_3.4.33, CXXABI_1.3.15.
CXXABI_OF_GLIBCXX = {"3.4.28": "1.3.12", "3.4.30": "1.3.13", "3.4.33": "1.3.15"}


def system_checks(lib: Path, release) -> list[Check]:
    """glibc, libstdc++ and C++ runtime ABI symbol versions within the
    release's Ubuntu base; no CUDA runtime of another major than the release's."""
    checks = []
    glibcxx = release.version("glibcxx")
    cxxabi = CXXABI_OF_GLIBCXX.get(str(glibcxx)) if glibcxx else None
    for prefix, field_, have in (("GLIBC", "glibc", release.version("glibc")), ("GLIBCXX", "glibcxx", glibcxx),
                                 ("CXXABI", "cxxabi", Version(cxxabi) if cxxabi else None)):
        need = elf.highest_version(lib, prefix)
        if have is None:
            checks.append(Check(f"{field_} version", None, f"Triton {release.name}'s {field_} is unknown"))
        else:
            checks.append(Check(f"{field_} version", need is None or need <= have,
                                f"needs {prefix}_{need or '(none)'}; Ubuntu {release.ubuntu} has {prefix}_{have}"))
    majors = elf.cudart_majors(lib)
    cuda = release.version("cuda")
    if not majors:
        checks.append(Check("CUDA runtime", True, "CPU-only: links no libcudart"))
    else:
        checks.append(Check("CUDA runtime", cuda is not None and set(majors) == {cuda.major},
                            f"links libcudart.so.{majors}; Triton {release.name} has CUDA {cuda}"))
    return checks


def cuda_checks(lib: Path, cuda) -> list[Check]:
    """With a toolkit: the library carries CUDA kernels, as SASS for every
    architecture asked for plus the one PTX (read back with cuobjdump), and
    needs nothing of libcudart that the release's runtime lacks."""
    if cuda is None or (cuda.toolkit is None and cuda.cpu_only_reason):
        why = cuda.cpu_only_reason if cuda else "no CUDA setup"
        return [Check("CUDA kernels", None, f"CPU-only build: {why}")]
    if not elf.cudart_majors(lib):
        return [Check("CUDA kernels", False, "the library links no libcudart: it was built without CUDA kernels "
                      "although a CUDA toolkit was given (see its build reason)")]
    return [_architectures_check(lib, cuda), runtime_symbols_check(lib, cuda.runtime, cuda.runtime_missing)]


def _architectures_check(lib: Path, cuda) -> Check:
    tk = cuda.toolkit
    if tk is None or tk.cuobjdump is None:
        return Check("CUDA architectures", None, "no cuobjdump in the toolkit used")
    want_sass, want_ptx = cuda_toolkit.expected_architectures(cuda.architectures)
    sass, ptx = cuda_toolkit.embedded_architectures(lib, tk.cuobjdump)
    fmt = lambda s, p: (f"SASS {', '.join('sm_' + a for a in sorted(s, key=_arch_key)) or 'none'}; "
                        f"PTX {', '.join('compute_' + a for a in sorted(p, key=_arch_key)) or 'none'}")
    return Check("CUDA architectures", sass == want_sass and ptx == want_ptx,
                 f"{fmt(sass, ptx)} (CUDA {tk.version}, cuobjdump)" if (sass, ptx) == (want_sass, want_ptx) else
                 f"has {fmt(sass, ptx)}; expected {fmt(want_sass, want_ptx)}")


def runtime_symbols_check(lib: Path, runtime, missing: str = "") -> Check:
    """Every symbol the library needs from libcudart is defined by the
    release's own: a toolkit newer than the release's CUDA (12.4 for every
    12.x release) declares runtime functions that its container lacks."""
    name = "CUDA runtime symbols"
    if runtime is None:
        return Check(name, None, "not run: no runtime of the release's CUDA" + (f" ({missing})" if missing else ""))
    soname = elf.cudart_sonames(lib)[0]
    if not (runtime.libdir / soname).is_file():
        return Check(name, False, f"links {soname}, but the release's runtime ({runtime.source}) is another major")
    needs = elf.read(lib).imports.get(soname, frozenset())
    if not needs:  # linked against a libcudart without symbol versions (a stub): what it needs is unknown
        return Check(name, None, f"not run: none of its symbols is bound to {soname}'s symbol versions")
    lacking = sorted(needs - elf.read(runtime.libdir / soname).exported)
    if lacking:
        return Check(name, False, f"needs {', '.join(lacking[:5])}{' …' if len(lacking) > 5 else ''} from "
                     f"{soname}, which the release's CUDA runtime ({runtime.source}) lacks: the library does not "
                     "load there. Call only the functions that runtime has, or build with a toolkit of its CUDA "
                     "minor (`opforge build --cuda DIR`)")
    return Check(name, True, f"every symbol it needs from {soname} ({len(needs)}) is defined by the release's "
                 f"CUDA runtime ({runtime.source})")


def _arch_key(arch: str) -> int:
    return int(arch.rstrip("a"))


def abi_check(lib: Path, release) -> Check:
    """The torch library uses the string ABI of the release's libtorch."""
    want, got = release.pytorch.cxx11_abi, elf.cxx11_abi(lib)
    name = lambda abi: {True: "C++11", False: "pre-C++11", None: "no std::string (undetermined)"}[abi]
    return Check("C++ ABI", got == want,
                 f"library uses the {name(got)} string ABI; Triton {release.name}'s libtorch uses the {name(want)} ABI")

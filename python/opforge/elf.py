"""What a shared library exports, needs and references, read with pyelftools."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection, GNUVerSymSection
from packaging.version import Version


@dataclass(frozen=True)
class Symbols:
    exported: frozenset[str]  # defined, global or weak
    undefined: frozenset[str]
    needed: tuple[str, ...]  # DT_NEEDED, in order
    version_needs: frozenset[str]  # GLIBC_2.14, GLIBCXX_3.4.21, ...
    # needed library -> the undefined symbols bound to its symbol versions
    # (cudaLaunchKernel@libcudart.so.12): what the dynamic linker takes from it
    imports: dict[str, frozenset[str]] = field(default_factory=dict)


@lru_cache(maxsize=64)
def read(path) -> Symbols:
    exported, undefined, needed, versions = set(), set(), [], set()
    library_of_version, versym = {}, None  # version index -> the library it belongs to
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for sec in elf.iter_sections():
            if isinstance(sec, DynamicSection):
                needed += [t.needed for t in sec.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
            elif isinstance(sec, GNUVerNeedSection):
                for need, auxes in sec.iter_versions():
                    for aux in auxes:
                        versions.add(aux.name)
                        library_of_version[aux["vna_other"]] = need.name
            elif isinstance(sec, GNUVerSymSection):
                versym = sec
        imports = {}
        dynsym = elf.get_section_by_name(".dynsym")
        for i, s in enumerate(dynsym.iter_symbols() if dynsym else ()):
            if not s.name:
                continue
            if s["st_shndx"] == "SHN_UNDEF":
                undefined.add(s.name)
                library = library_of_version.get(versym.get_symbol(i)["ndx"]) if versym else None
                if library:
                    imports.setdefault(library, set()).add(s.name)
            elif s["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK"):
                exported.add(s.name)
    return Symbols(frozenset(exported), frozenset(undefined), tuple(needed), frozenset(versions),
                   {lib: frozenset(names) for lib, names in imports.items()})


def highest_version(path, prefix: str) -> Version | None:
    """The highest `prefix`_x.y symbol version the library needs (GLIBC, GLIBCXX)."""
    found = [Version(v[len(prefix) + 1:]) for v in read(path).version_needs
             if v.startswith(prefix + "_") and re.fullmatch(r"[\d.]+", v[len(prefix) + 1:])]
    return max(found, default=None)


def cudart_sonames(path) -> list[str]:
    """The CUDA runtimes the library links: libcudart.so.12, libcudart.so.11.0 (CUDA 11)."""
    return [n for n in read(path).needed if re.fullmatch(r"libcudart\.so\.\d+(?:\.\d+)*", n)]


def cudart_majors(path) -> list[int]:
    """CUDA runtime majors the library links (libcudart.so.12 -> 12)."""
    return [int(n.split(".")[2]) for n in cudart_sonames(path)]


# --- C++ ABI -------------------------------------------------------------------

_STRING = "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"
_OLD_STRING = "std::basic_string<char, std::char_traits<char>, std::allocator<char> >"


def demangle(names) -> dict[str, str]:
    """Mangled -> demangled, through binutils' c++filt (one process for all)."""
    names = sorted(names)
    tool = shutil.which("c++filt")
    if tool is None:
        raise RuntimeError("c++filt (binutils) is needed to compare C++ symbols across ABIs; install binutils")
    out = subprocess.run([tool], input="\n".join(names), capture_output=True, text=True, check=True).stdout
    return dict(zip(names, out.splitlines()))


def normalise_abi(demangled: str) -> str:
    """The same symbol under either libstdc++ string ABI, spelled one way."""
    s = demangled.replace(_STRING, "std::string").replace(_OLD_STRING, "std::string")
    return s.replace("std::__cxx11::", "std::").replace("[abi:cxx11]", "")


_SPECIAL = re.compile(r"^(?:(?:transaction clone for|typeinfo for|typeinfo name for|vtable for|VTT for|"
                      r"guard variable for|non-virtual thunk to|virtual thunk to|construction vtable for) )+")


def cxx11_abi(path) -> bool | None:
    """Which libstdc++ string ABI the library's own C++ interface uses: True
    (std::__cxx11), False (the old std::string), None when no symbol of its
    involves a std::string. Entities of namespace std are left out: some
    libraries carry a static libstdc++, whose symbols come in both ABIs."""
    syms = read(path)
    new = old = 0
    for d in demangle(n for n in syms.exported | syms.undefined if n.startswith("_Z")).values():
        d = _SPECIAL.sub("", d)
        if d.startswith(("std::", "__gnu_cxx::")):
            continue
        if "std::__cxx11::" in d or "[abi:cxx11]" in d:
            new += 1
        elif "std::string" in d or "std::basic_string<char" in d:
            old += 1
    if new or old:
        return new > old
    return None


def unresolved_against(path, libraries) -> list[str]:
    """Undefined C++ symbols of `path` that none of `libraries` (nor this
    system's C/C++ runtime) define, even after both sides' std::string ABI
    is normalised: the symbols that would fail to bind at load time."""
    provided = set()
    for lib in [*libraries, *system_runtime()]:
        provided |= read(lib).exported
    wanted = {n for n in read(path).undefined if n.startswith("_Z") and n not in provided}
    if not wanted:
        return []
    ours = demangle(wanted)
    theirs = {normalise_abi(d) for d in demangle(n for n in provided if n.startswith("_Z")).values()}
    return sorted(ours[n] for n in wanted if normalise_abi(ours[n]) not in theirs)


@lru_cache(maxsize=1)
def system_runtime() -> tuple[str, ...]:
    """This system's libstdc++, libgcc_s, libc and libm, as the loader finds them."""
    wanted = {"libstdc++.so.6", "libgcc_s.so.1", "libc.so.6", "libm.so.6"}
    # /sbin is not on a non-root user's PATH on Debian
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin:/usr/sbin")
    if ldconfig is None:
        raise RuntimeError("ldconfig (libc-bin) is needed to find this system's C/C++ runtime libraries")
    out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) \((libc6,x86-64|libc6,AArch64)[^)]*\) => (\S+)", line)
        if m and m.group(1) in wanted and m.group(1) not in found:
            found[m.group(1)] = m.group(3)
    return tuple(found.values())


@lru_cache(maxsize=64)
def strong_definitions(path) -> frozenset[str]:
    """Functions and objects the library defines as strong, default-visibility
    globals: what it would interpose on another library loaded after it (weak
    definitions, C++'s inline and template instances, are meant to be merged)."""
    out = set()
    with open(path, "rb") as f:
        dynsym = ELFFile(f).get_section_by_name(".dynsym")
        for s in dynsym.iter_symbols() if dynsym else ():
            if (s.name and s["st_shndx"] != "SHN_UNDEF" and s["st_info"]["bind"] == "STB_GLOBAL"
                    and s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT")
                    and s["st_other"]["visibility"] == "STV_DEFAULT"):
                out.add(s.name)
    return frozenset(out)

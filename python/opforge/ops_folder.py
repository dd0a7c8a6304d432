"""An ops folder checked before anything is built: each problem as one line
that names the file and what to do, instead of a CMake or compiler log.

The layout (README, "Your own ops"): ops.cmake includes each op folder's
op.cmake, which holds one `opforge_op(<name> SPEC <name>.h KERNELS ... [CUDA
...])`; the spec header ends with `OPFORGE_OP(Spec)`; reference.py holds the
numpy function named after the op, DTYPES and cases().
"""

from __future__ import annotations

import re
from pathlib import Path

from opforge.cases import cmake_code, op_dirs

# C++20's keywords and alternative tokens: not an op name, not a namespace.
CXX_KEYWORDS = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t class compl
concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype default delete
do double dynamic_cast else enum explicit export extern false float for friend goto if inline int long mutable
namespace new noexcept not not_eq nullptr operator or or_eq private protected public register reinterpret_cast
requires return short signed sizeof static static_assert static_cast struct switch template this thread_local throw
true try typedef typeid typename union unsigned using virtual void volatile wchar_t while xor xor_eq
""".split())
# Torch namespaces that are not free: torch's own (model_ops.TORCH_BUILTIN) and these.
TORCH_TAKEN = frozenset({"std", "c10", "at", "torch", "ops"})
NAMESPACE = re.compile(r"^[a-z][a-z0-9_]*$")


def namespace_problem(namespace: str) -> str | None:
    """Why `namespace` cannot name a build's ops (C++ namespace, torch
    namespace, ONNX domain, library files), or None."""
    from opforge.model_ops import TORCH_BUILTIN

    if not NAMESPACE.match(namespace):
        return f"namespace {namespace!r} must be a lower-case C identifier (letters, digits, _; a letter first)"
    if namespace in CXX_KEYWORDS:
        return f"namespace {namespace!r} is a C++ keyword"
    if namespace in TORCH_BUILTIN or namespace in TORCH_TAKEN:
        return f"namespace {namespace!r} is torch's own: loading the library would clash with it"
    return None


def default_namespace(ops: Path) -> str:
    """An ops folder's namespace when none is given: its name as a C
    identifier, prefixed with ops_ where that alone would not do."""
    # runs of _ become one: C++ reserves names with __ for the implementation
    name = re.sub(r"[^a-z0-9]+", "_", ops.name.lower()).strip("_")
    return name if name[:1].isalpha() and namespace_problem(name) is None else f"ops_{name or 'folder'}"

CALL = re.compile(r"^\s*opforge_op\s*\(([^()]*)\)\s*$", re.S)
KINDS = ("SPEC", "KERNELS", "CUDA")
# What op sources written for an earlier opforge use that this one no longer
# has, and what replaced it: said before the compiler says "no such file".
GONE = {
    re.compile(r'^\s*#\s*include\s*[<"]opforge/cuda_launch\.cuh[>"]', re.M):
        "opforge/cuda_launch.cuh is gone: include opforge/cuda_elementwise.cuh (kBlock, launch_error; grid_for(n) "
        "where elementwise_grid(n) was; map1/map2 launch a whole elementwise kernel)",
}


# A spec's CUDA entry point, `static const char* cuda(const Args&, Stream)`
# (op_spec.h's has_cuda): declared only by ops with a CUDA kernel.
CUDA_ENTRY = re.compile(r"\bcuda\s*\(")


def _code(source: str) -> str:
    """C++ source without its comments (a comment may well mention cuda())."""
    return re.sub(r"//[^\n]*|/\*.*?\*/", " ", source, flags=re.S)


class OpsFolderError(ValueError):
    """What is wrong with an ops folder, in one line."""


def _op_call(op_cmake: Path) -> dict[str, list[str]]:
    text = cmake_code(op_cmake).strip()
    m = CALL.match(text)
    if not m:
        raise OpsFolderError(f"{op_cmake}: expected one call opforge_op(<name> SPEC <name>.h KERNELS <sources>... "
                             "[CUDA <sources>...]) and nothing else")
    words = [w[1:-1] if len(w) > 1 and w[0] == w[-1] == '"' else w for w in m.group(1).split()]
    parts: dict[str, list[str]] = {"NAME": words[:1]}
    kind = None
    for word in words[1:]:
        if word in KINDS:
            kind = word
            parts.setdefault(kind, [])
        elif kind is None:
            raise OpsFolderError(f"{op_cmake}: '{word}' after the op name; expected SPEC, KERNELS or CUDA")
        else:
            parts[kind].append(word)
    return parts


def path_problem(ops: Path) -> str | None:
    """Why an ops folder cannot be built where it is, or None. (CMakeLists.txt refuses ';' and '"' too; a '\\'
    reaches it as a '/'.)"""
    misread = " or ".join(f"'{c}'" for c in ';\\"' if c in str(ops.resolve()))
    return (f"{ops}: a path with {misread} cannot be built (CMake splits a path at ';' and turns '\\' into '/'; "
            "a '\"' ends the #include of a spec): move or rename the folder") if misread else None


def check(ops: Path) -> list[str]:
    """The op names, in ops.cmake's order; raises OpsFolderError on the first problem."""
    if problem := path_problem(ops):  # before any toolchain is provisioned
        raise OpsFolderError(problem)
    listing = ops / "ops.cmake"
    if not listing.is_file() and (ops / "op.cmake").is_file():
        raise OpsFolderError(f"{ops} is an op's folder: give the ops folder that holds it ({ops.parent})")
    if not listing.is_file():
        raise OpsFolderError(f"{ops} has no ops.cmake: an ops folder lists its op folders there (see README, "
                             "or start one with `opforge new NAME --ops DIR`)")
    names = list(op_dirs(ops))
    if not names:
        raise OpsFolderError(f'{listing} includes no op folder: add include("${{CMAKE_CURRENT_LIST_DIR}}/<op>/op.cmake")')
    for name in names:
        folder, op_cmake = ops / name, ops / name / "op.cmake"
        if not op_cmake.is_file():
            raise OpsFolderError(f"{listing} includes {name}/op.cmake, which does not exist")
        parts = _op_call(op_cmake)
        if parts["NAME"] != [name]:
            raise OpsFolderError(f"{op_cmake}: opforge_op names '{' '.join(parts['NAME'])}', the folder is '{name}'")
        if len(parts.get("SPEC", [])) != 1 or not parts.get("KERNELS"):
            raise OpsFolderError(f"{op_cmake}: needs SPEC <one header> and KERNELS <at least one source>")
        for file in [*parts["SPEC"], *parts["KERNELS"], *parts.get("CUDA", [])]:
            if not (folder / file).is_file():
                cpu_only = (" (for a CPU-only op, remove CUDA and its sources from op.cmake, and cuda from the spec)"
                            if file in parts.get("CUDA", []) else "")
                raise OpsFolderError(f"{op_cmake} lists {file}, which is not in {folder}{cpu_only}")
            source = (folder / file).read_text(errors="replace")
            for pattern, advice in GONE.items():
                if pattern.search(source):
                    raise OpsFolderError(f"{folder / file}: {advice}")
        spec_file = folder / parts["SPEC"][0]
        spec = spec_file.read_text()
        if "OPFORGE_OP(" not in spec or not re.search(rf'kName\s*=\s*"{re.escape(name)}"', spec):
            raise OpsFolderError(f'{spec_file}: not a spec of op {name}: it needs '
                                 f'kName = "{name}" and an OPFORGE_OP(Spec) line (see cpp/include/opforge/op_spec.h)')
        declares_cuda = CUDA_ENTRY.search(_code(spec)) is not None
        if parts.get("CUDA") and not declares_cuda:
            raise OpsFolderError(f"{op_cmake} lists CUDA sources, but {spec_file} declares no CUDA kernel: add "
                                 "`static const char* cuda(const Args& args, Stream stream);` to its Spec, or, "
                                 "for a CPU-only op, remove CUDA and its sources from op.cmake")
        if declares_cuda and not parts.get("CUDA"):
            raise OpsFolderError(f"{spec_file} declares a CUDA kernel, but {op_cmake} lists no CUDA sources: add "
                                 f"CUDA {name}.cu there, or, for a CPU-only op, remove the declaration of cuda")
        reference = folder / "reference.py"
        if not reference.is_file():
            raise OpsFolderError(f"{folder} has no reference.py (the numpy function {name}(), DTYPES and cases())")
        if not re.search(rf"^def {re.escape(name)}\(", reference.read_text(), re.M):
            raise OpsFolderError(f"{reference} defines no function {name}(): the release checks compare with it")
    return names


def cuda_ops(ops: Path) -> list[str]:
    """The ops of a checked ops folder that have a CUDA kernel (op.cmake lists CUDA sources)."""
    return [name for name in op_dirs(ops) if _op_call(ops / name / "op.cmake").get("CUDA")]

"""`opforge new NAME [--ops DIR] [--cpu-only]`: a new op folder that builds and
passes the test suite as generated.

The template is a real small op, y = a + alpha * b over float32 and float16,
so that every part (spec, CPU and CUDA kernels, reference and cases) shows
what it is for; --cpu-only leaves the CUDA kernel out. Writing is all or
nothing: the folder is assembled beside its final place and renamed in, then
ops.cmake gets its line.
"""

from __future__ import annotations

import keyword
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from . import files
from .cases import camel, op_dirs
from .ops_folder import CXX_KEYWORDS, default_namespace, path_problem

NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")  # snake_case: one spelling per CamelCase name
# What the op's namespace <ns>::<name> must not be called: a C++ keyword; a
# function or namespace of opforge's headers and adapters (inside namespace
# opforge a namespace of that name cannot be declared, and elsewhere it hides
# the helper the kernels call); `name`, which torch.ops.<ns> has already.
OPFORGE_NAMES = frozenset("""
aligned_head grid_for grid_for_packs map1 map2 map_kernel pack_size launch_error float_to_half half_to_float
check_attrs check_dtypes check_shapes decode_attrs encode_attrs float_attr int_attr last_axis same_shape same_dims
number shape_str str_len unsupported_dtype valid_spec camel_name dtype_name cpu_has_x86_v3 floats_to_halves
halves_to_floats for_blocks half_blocks map_cpu parallel_for parallel_for_isa run_x86_v3 has_cuda
torch_adapter tf_adapter ort_adapter trt selftest
""".split())
RESERVED = CXX_KEYWORDS | OPFORGE_NAMES | {"std", "opforge", "name"}

SPEC = '''\
// {name}: y = a + alpha * b, elementwise, in float32 whatever the storage dtype.
// Made by `opforge new`: change the spec, {kernels} and reference.py.
#pragma once

#include "opforge/op_spec.h"

namespace {ns}::{name} {{
using namespace opforge;

struct Spec : SpecBase {{
  static constexpr const char* kName = "{name}";
  static constexpr DTypes kDTypes{{DType::kFloat32, DType::kFloat16}};  // every input and the output
  static constexpr std::array<const char*, 2> kInputs{{"a", "b"}};
  static constexpr std::array<Attr, 1> kAttrs{{float_attr("alpha", 1.0)}};  // name, default[, min, max]
  static constexpr std::array<Relation, 1> kRelations{{same_shape(0, 1)}};
  static void cpu(const Args& args);                       // {name}_cpu.cc
{cuda_entry}}};
OPFORGE_OP(Spec)

}}  // namespace {ns}::{name}
'''

CPU = '''\
#include "{name}.h"
#include "opforge/parallel.h"

namespace {ns}::{name} {{

// map_cpu runs the lambda over every element in parallel chunks; float16
// (uint16_t storage) reaches it as float.
void Spec::cpu(const Args& args) {{
  const float alpha = args.attr(0);
  const auto op = [=](float a, float b) {{ return a + alpha * b; }};
  if (args.dtype == DType::kFloat32)
    map_cpu(args, op, args.out<float>(), args.in<float>(0), args.in<float>(1));
  else
    map_cpu(args, op, args.out<uint16_t>(), args.in<uint16_t>(0), args.in<uint16_t>(1));
}}

}}  // namespace {ns}::{name}
'''

CUDA = '''\
#include <cuda_fp16.h>

#include "{name}.h"
#include "opforge/cuda_elementwise.cuh"

namespace {ns}::{name} {{
namespace {{

struct Op {{
  float alpha;
  // Rounded multiply, then add (no fused multiply-add): the CPU kernel and
  // numpy round the same way.
  template <typename T>
  __device__ T operator()(T a, T b) const {{
    return static_cast<T>(__fadd_rn(static_cast<float>(a), __fmul_rn(alpha, static_cast<float>(b))));
  }}
}};

}}  // namespace

// Launches on the stream it is given; map2 moves 16-byte packs at the
// bandwidth limit (opforge/cuda_elementwise.cuh).
const char* Spec::cuda(const Args& args, Stream stream) {{
  if (args.dtype == DType::kFloat32)
    map2(args.in<float>(0), args.in<float>(1), args.out<float>(), args.numel, Op{{args.attr(0)}}, stream);
  else
    map2(args.in<__half>(0), args.in<__half>(1), args.out<__half>(), args.numel, Op{{args.attr(0)}}, stream);
  return launch_error();
}}

}}  // namespace {ns}::{name}
'''

REFERENCE = '''\
"""{name}: the numpy reference and the cases every framework is tested with."""

import numpy as np

DTYPES = ("float32", "float16")
TOLERANCE = 0  # exact: every kernel computes in float32 and rounds once per step
SHAPES = [(0,), (1,), (7,), (3, 5), (2, 0, 3), (300_001,)]  # the last: the CPU kernel's parallel path


def {name}(a, b, alpha=1.0):
    y = a.astype(np.float32) + np.float32(alpha) * b.astype(np.float32)
    return y.astype(a.dtype)


def cases(values):
    """(inputs, attributes) pairs; values(shape, dtype) makes random data."""
    for dtype in DTYPES:
        for shape in SHAPES:
            yield [values(shape, dtype), values(shape, dtype)], {{"alpha": -0.75}}
'''

OP_CMAKE = "opforge_op({name} SPEC {name}.h KERNELS {name}_cpu.cc{cuda_sources})\n"
CUDA_DECLARATION = "  static const char* cuda(const Args& args, Stream stream);  // {name}.cu: nullptr or CUDA's error\n"
OPS_CMAKE_HEAD = "# The op folders of this ops folder, listed explicitly (no glob).\n"


class NewOpError(ValueError):
    """A name or folder `opforge new` refuses; nothing was written."""


def cxx_namespace(ops: Path) -> str:
    """The C++ namespace of a folder's ops: opforge's own, else the one
    `opforge build` gives the folder's ops."""
    if (ops.parent / "cpp" / "include" / "opforge" / "op_spec.h").is_file():
        return "opforge"
    return default_namespace(ops)


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise NewOpError(f"{name!r} is not a snake_case op name: use lower-case letters, digits and single "
                         "underscores, starting with a letter (e.g. fused_gelu)")
    if name in RESERVED or keyword.iskeyword(name):
        raise NewOpError(f"{name!r} is a C++ or Python keyword or a name opforge uses: choose another")


def _check_camel_name(name: str, existing: list[str]) -> None:
    """TF op and TensorRT plugin names are CamelCase: ab2 and ab_2 would both be Ab2."""
    for other in existing:
        if camel(other) == camel(name):
            raise NewOpError(f"{name!r} and the op {other!r} have one CamelCase name, {camel(name)} (the "
                             "TensorFlow op and TensorRT plugin name): choose another")


def _include_line(name: str) -> str:
    return f'include("${{CMAKE_CURRENT_LIST_DIR}}/{name}/op.cmake")\n'


def create(name: str, ops: Path, cuda: bool = True) -> Path:
    """Creates ops/<name>/ and lists it in ops/ops.cmake; returns the op
    folder. cuda False: an op with a CPU kernel alone (no .cu, no cuda in the
    spec, no CUDA sources in op.cmake)."""
    _check_name(name)
    ops = ops.resolve()
    if problem := path_problem(ops):
        raise NewOpError(problem)
    if ops.exists() and not ops.is_dir():
        raise NewOpError(f"--ops {ops} is a file: give an ops folder (one with ops.cmake), or a new one")
    listing = ops / "ops.cmake"
    if ops.exists() and not listing.is_file() and any(ops.iterdir()):
        raise NewOpError(f"{ops} is not an ops folder (it has no ops.cmake) and is not empty: give --ops an ops "
                         "folder, or a new or empty one")
    folder = ops / name
    if folder.exists():
        raise NewOpError(f"{folder} already exists: opforge new never overwrites an op")
    current = listing.read_text() if listing.is_file() else OPS_CMAKE_HEAD
    if f"/{name}/op.cmake" in current:
        raise NewOpError(f"{listing} already lists an op named {name}")
    _check_camel_name(name, list(op_dirs(ops)) if listing.is_file() else [])
    ns = cxx_namespace(ops)
    sources = {f"{name}.h": SPEC, f"{name}_cpu.cc": CPU, **({f"{name}.cu": CUDA} if cuda else {}),
               "reference.py": REFERENCE, "op.cmake": OP_CMAKE}
    fields = {"name": name, "ns": ns, "kernels": "the two kernels" if cuda else "the kernel",
              "cuda_entry": CUDA_DECLARATION.format(name=name) if cuda else "",
              "cuda_sources": f" CUDA {name}.cu" if cuda else ""}
    ops.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=ops))
    try:
        for file, template in sources.items():
            (staging / file).write_text(template.format(**fields))
        os.chmod(staging, 0o777 & ~files.umask())
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        files.write_atomic(listing, current + ("" if current.endswith("\n") else "\n") + _include_line(name))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def main(name: str, ops: str, cuda: bool = True) -> int:
    try:
        folder = create(name, Path(ops), cuda)
    except (NewOpError, OSError) as e:
        print(f"opforge new: {e}", file=sys.stderr)
        return 2
    kernels = f"{name}_cpu.cc, {name}.cu (kernels)" if cuda else f"{name}_cpu.cc (kernel)"
    print(f"created {folder}: {name}.h (spec), {kernels}, reference.py; "
          f"listed in {folder.parent / 'ops.cmake'}")
    print(f"next: write the math in the {'kernels' if cuda else 'kernel'} and reference.py, then build, e.g. "
          f"`opforge build --ops {shlex.quote(str(folder.parent))} --release 23.05`")
    return 0

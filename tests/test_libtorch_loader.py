"""The torch library in a process without libpython, as in Triton's PyTorch
(libtorch) backend: a TorchScript module saved from Python runs in a small
C++ host (tests/libtorch_loader) that links libtorch only and dlopen()s
libopforge_torch.so, the way LD_PRELOAD makes it available to Triton.

The host is built with CMake into a temporary folder once per test run
(about 15 s with two cores and Ninja)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import library, require_framework, results_of
from opcases import OPS, OPS_DIR, REPO

torch = require_framework("torch")

from opforge import elf  # noqa: E402  (pyelftools: only once torch is known to be there)
from opforge.cases import Case, assert_matches, load_reference  # noqa: E402

SOURCE = REPO / "tests" / "libtorch_loader"
FORBIDDEN = ("libpython", "libtorch_python")  # what a libtorch-only process must never load
TORCH_LIB = Path(torch.__file__).resolve().parent / "lib"

# Scripted from a file, not `python -c`: TorchScript compiles from the source.
MAKE_MODULE = '''
import json, re, sys
import torch


class OpforgeOps(torch.nn.Module):
    def forward(self, x: torch.Tensor, lo: float, hi: float, z: torch.Tensor, a: torch.Tensor,
                b: torch.Tensor, r: torch.Tensor, w: torch.Tensor, eps: float):
        return (torch.ops.opforge.clip(x, lo, hi), torch.ops.opforge.zero_out(z),
                torch.ops.opforge.modulo(a, b), torch.ops.opforge.rms_norm(r, w, eps))


torch.ops.load_library(sys.argv[1])
scripted = torch.jit.script(OpforgeOps())
scripted.save(sys.argv[2])
print(json.dumps({"torch": torch.__version__,
                  "graph_ops": sorted(set(re.findall(r"opforge::(\\w+)", str(scripted.graph))))}))
'''

# The op's inputs among the loader's tensors, and its attributes.
OP_INPUTS = {"clip": ("x",), "zero_out": ("z",), "modulo": ("a", "b"), "rms_norm": ("r", "w")}
OP_ATTRS = {"clip": ("lo", "hi"), "zero_out": (), "modulo": (), "rms_norm": ("epsilon",)}


def tail(text: str, n: int = 4000) -> str:
    return text[-n:]


def compiler_or_skip() -> None:
    if not shutil.which("cmake"):
        pytest.skip("cmake is not on PATH: cannot build the libtorch loader")
    cxx = os.environ.get("CXX")
    if not (shutil.which(cxx) if cxx else any(shutil.which(c) for c in ("c++", "g++", "clang++"))):
        pytest.skip(f"no C++ compiler ({'CXX=' + cxx if cxx else 'c++, g++, clang++'}) to build the libtorch loader")


@pytest.fixture(scope="module")
def torch_library() -> str:
    return library("torch")  # torch is installed: a missing library fails, it does not skip


@pytest.fixture(scope="module")
def scripted_module(torch_library, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("libtorch_module")
    script, module = folder / "make_module.py", folder / "opforge_ops.pt"
    script.write_text(MAKE_MODULE)
    proc = subprocess.run([sys.executable, str(script), torch_library, str(module)],
                          capture_output=True, text=True, timeout=300)
    made = results_of(proc)
    assert made["graph_ops"] == sorted(OPS), f"the scripted graph calls {made['graph_ops']}"
    assert module.is_file()
    return module


@pytest.fixture(scope="module")
def loader(tmp_path_factory) -> Path:
    compiler_or_skip()
    build = tmp_path_factory.mktemp("libtorch_loader") / "build"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    configure = ["cmake", "-S", str(SOURCE), "-B", str(build), *generator,
                 "-DCMAKE_BUILD_TYPE=Release",
                 f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}",
                 f"-DTORCH_CXX11_ABI={int(torch.compiled_with_cxx11_abi())}"]
    start = time.monotonic()
    proc = subprocess.run(configure, capture_output=True, text=True, timeout=180)
    if proc.returncode and torch.version.cuda and not shutil.which("nvcc"):
        pytest.skip(f"torch {torch.__version__} is a CUDA build, whose find_package(Torch) needs a "
                    f"CUDA toolkit, and there is no nvcc on PATH:\n{tail(proc.stdout + proc.stderr, 1500)}")
    assert proc.returncode == 0, f"cmake configure failed:\n{tail(proc.stdout)}\n{tail(proc.stderr)}"
    proc = subprocess.run(["cmake", "--build", str(build), "--parallel", "2"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"building the loader failed:\n{tail(proc.stdout)}\n{tail(proc.stderr)}"
    print(f"\nlibtorch loader built in {time.monotonic() - start:.1f} s")
    binary = build / "opforge_libtorch_loader"
    assert binary.is_file(), f"the build made no {binary}"
    return binary


@pytest.fixture(scope="module")
def loaded(loader, torch_library, scripted_module) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONHOME", "PYTHONPATH")}
    env["LD_LIBRARY_PATH"] = str(TORCH_LIB)  # the build sets no RPATH: this is how libtorch is found
    proc = subprocess.run([str(loader), torch_library, str(scripted_module)],
                          capture_output=True, text=True, timeout=120, env=env)
    return results_of(proc)


def needed_closure(path: Path) -> dict[str, tuple[str, ...]]:
    """{object: its DT_NEEDED} for `path` and every library it needs that
    torch's lib folder holds, transitively (system libraries are not followed:
    libc and libstdc++ cannot pull libpython in)."""
    seen, todo = {}, [path]
    while todo:
        p = todo.pop()
        if p.name in seen:
            continue
        seen[p.name] = elf.read(str(p)).needed
        todo += [TORCH_LIB / n for n in seen[p.name] if (TORCH_LIB / n).is_file()]
    return seen


@pytest.mark.parametrize("which", ["loader", "library"])
def test_needs_no_libpython(which, request):
    path = Path(request.getfixturevalue("loader" if which == "loader" else "torch_library"))
    closure = needed_closure(path)
    direct = closure[path.name]
    assert {"libtorch_cpu.so", "libtorch.so"} & set(direct), f"{path.name} needs {direct}: no libtorch"
    bad = {obj: [n for n in needs if n.startswith(FORBIDDEN)] for obj, needs in closure.items()}
    bad = {obj: names for obj, names in bad.items() if names}
    assert not bad, f"{path.name} pulls Python in through DT_NEEDED: {bad}"
    readelf = shutil.which("readelf")
    if readelf:  # the same, in the binutils' words
        out = subprocess.run([readelf, "-d", str(path)], capture_output=True, text=True).stdout
        assert not re.search(r"NEEDED.*\[(libpython|libtorch_python)", out), out


def test_process_never_maps_libpython(loaded):
    mapped = loaded["mapped_objects"]
    assert not [m for m in mapped if m.startswith(FORBIDDEN)], f"the loader mapped {mapped}"
    for present in ("libtorch_cpu.so", "libc10.so", Path(library("torch")).name):
        assert present in mapped, f"{present} not in /proc/self/maps ({mapped}): the scan is broken"
    assert loaded["python_symbols_visible"] is False, "Py_IsInitialized or PyObject_GetAttr resolves"


def test_ops_come_from_the_dlopened_library(loaded):
    assert loaded["registered_before_dlopen"] == []
    assert "opforge::" in loaded["error_before_dlopen"], loaded["error_before_dlopen"]
    assert sorted(loaded["registered_after_dlopen"]) == sorted(OPS)
    assert loaded["torch_version"] == torch.__version__.split("+")[0]


def array(t: dict) -> np.ndarray:
    dtype = np.dtype(t["dtype"])
    data = np.array(t["data"], dtype=np.float64 if dtype.kind == "f" else np.int64)
    return data.astype(dtype).reshape(t["shape"])


@pytest.mark.parametrize("op", OPS)
def test_outputs_match_reference(loaded, op):
    ref = load_reference(OPS_DIR / op)
    assert [r["name"] for r in loaded["runs"]] == ["float32", "float16_int32"]
    for run in loaded["runs"]:
        inputs = [array(run["inputs"][k]) for k in OP_INPUTS[op]]
        attrs = {k: run["attrs"][k] for k in OP_ATTRS[op]}
        dtype = str(inputs[0].dtype)
        tol = ref.TOLERANCE.get(dtype, 0) if isinstance(ref.TOLERANCE, dict) else ref.TOLERANCE
        case = Case(op, dtype, inputs, attrs, getattr(ref, op), tol)
        assert_matches(case, array(run["outputs"][op]))

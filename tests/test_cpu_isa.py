"""The CPU kernels' two compiled copies (parallel.h): baseline x86-64, and
x86-64-v3 (AVX2, FMA, F16C) chosen at run time where the CPU has it.
OPFORGE_CPU=baseline makes a process use the baseline copy on any CPU.

- Both copies give the same elements, bit for bit: the kernels are compiled
  without FMA contraction (rms_norm's sums of squares would differ).
- modulo's vectorised float fmod is C's fmod bit for bit, over random bit
  patterns (NaN, infinities, subnormals, huge quotients) and exact multiples
  (a zero remainder keeps the sign of a)."""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import library, require_framework, results_of, run_python

CHILD = r"""
import json, sys
import numpy as np, torch
torch.ops.load_library(sys.argv[1])
ops = torch.ops.opforge
rng = np.random.default_rng(7)
n = 100_003  # above the parallel grain, and no multiple of a vector width

def floats(size):  # every float32 bit pattern is as likely
    return rng.integers(0, 1 << 32, size, dtype=np.uint64).astype(np.uint32).view(np.float32)

def magnitudes(size):
    return (rng.uniform(1, 2, size) * np.exp2(rng.integers(-40, 41, size))
            * rng.choice([-1, 1], size)).astype(np.float32)

t = torch.from_numpy
with np.errstate(all="ignore"):
    x, b = floats(n), magnitudes(n)
    fmod_inputs = {"bits": (x, floats(n)), "magnitudes": (magnitudes(n), b),
                   "multiples": ((b * rng.integers(-1000, 1000, n)).astype(np.float32), b)}
out = {
    "clip_f32": ops.clip(t(x), -0.5, 0.5),
    "clip_f16": ops.clip(t(x.astype(np.float16)), -0.5, 0.5),
    "rms_norm_f32": ops.rms_norm(t(magnitudes(n - 3).reshape(-1, 1000) / 2**30), t(magnitudes(1000)), 1e-6),
    "rms_norm_f16": ops.rms_norm(t(rng.standard_normal((100, 1000)).astype(np.float16)),
                                 t(rng.standard_normal(1000).astype(np.float16)), 1e-5),
}
out = {k: v.numpy() for k, v in out.items()}
for k, (a, d) in fmod_inputs.items():
    out[f"modulo_{k}"], out[f"modulo_{k}_a"], out[f"modulo_{k}_b"] = ops.modulo(t(a), t(d)).numpy(), a, d
np.savez(sys.argv[2], **out)
print(json.dumps({"ok": True}))
"""


def has_x86_v3() -> bool:
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return False
    return {"avx2", "fma", "f16c"} <= set(flags.split())


def run_copy(tmp_path: Path, name: str, env: dict) -> dict:
    path = tmp_path / f"{name}.npz"
    results_of(run_python(CHILD, library("torch"), str(path), env=env))
    return dict(np.load(path))


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bits, but any NaN matches any NaN (payloads may differ)."""
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b)) and np.array_equal(a[~nan].tobytes(), b[~nan].tobytes()))


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> tuple[dict, dict]:
    require_framework("torch")
    tmp = tmp_path_factory.mktemp("isa")
    return run_copy(tmp, "best", {}), run_copy(tmp, "baseline", {"OPFORGE_CPU": "baseline"})


def test_both_copies_agree(copies):
    if not has_x86_v3():
        pytest.skip("this CPU has no AVX2+FMA+F16C: both runs would use the baseline copy")
    best, baseline = copies
    for key in best:
        if not key.endswith(("_a", "_b")):
            assert same_bits(best[key], baseline[key]), f"{key}: the x86-64-v3 and baseline copies differ"


@pytest.mark.parametrize("copy", ["best", "baseline"])
def test_float_fmod_is_c_fmod(copies, copy):
    got = copies[0] if copy == "best" else copies[1]
    for case in ("bits", "magnitudes", "multiples"):
        with np.errstate(all="ignore"):
            want = np.fmod(got[f"modulo_{case}_a"], got[f"modulo_{case}_b"])
        assert same_bits(got[f"modulo_{case}"], want), f"{case} ({copy} copy): not C's fmod bit for bit"


@pytest.mark.parametrize("framework", ["torch", "onnxruntime", "tensorflow"])
def test_libraries_carry_the_v3_copy(framework):
    """The vectorised loops are in the library: 8-wide float16 conversions,
    clip's 8-wide min/max and fmod's 4-wide double division (objdump's view
    of the compiler's output)."""
    require_framework(framework)
    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("no objdump (binutils) on this machine to read the compiled code")
    if platform.machine() != "x86_64":
        pytest.skip(f"the v3 copy is x86-64 only; this is {platform.machine()}")
    code = subprocess.run([objdump, "-d", "--no-show-raw-insn", library(framework)], capture_output=True, text=True,
                          check=True).stdout
    for instruction in ("vcvtph2ps %xmm", "vcvtps2ph $0x0,%ymm", "vminps %ymm", "vdivpd %ymm"):
        assert instruction in code, f"{framework}: no '{instruction}' in the library: a loop did not vectorise"

"""An op without a CUDA kernel: its spec declares no `cuda` and its op.cmake
lists no CUDA sources. It gets CPU kernels in every framework, beside ops
that have CUDA kernels, and an ops folder of such ops alone builds CPU-only
libraries even where nvcc is found."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from opcases import REPO

from test_selftest import nvcc_or_skip


def opforge(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "opforge", *args], capture_output=True, text=True, timeout=timeout)


def new_cpu_only_op(ops, name):
    proc = opforge("new", name, "--ops", str(ops), "--cpu-only")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (ops / name).iterdir()) == ["op.cmake", "reference.py", f"{name}.h", f"{name}_cpu.cc"]
    assert (ops / name / "op.cmake").read_text().strip() == f"opforge_op({name} SPEC {name}.h KERNELS {name}_cpu.cc)"


def test_an_op_without_a_cuda_kernel_builds_beside_one_with_it(tmp_path):
    ops = tmp_path / "myops"
    shutil.copytree(REPO / "examples" / "myops", ops)  # scale: CPU and CUDA kernels
    new_cpu_only_op(ops, "shift")
    out = tmp_path / "dist"
    proc = opforge("build", "--release", "23.05", "--ops", str(ops), "--out", str(out), "--toolchain", "pip",
                   "--frameworks", "torch", "tensorflow", timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ops"] == ["scale", "shift"] and manifest["cuda_ops"] == ["scale"]
    for lib in manifest["libraries"]:
        checks = {c["check"].removeprefix("twin "): c for c in lib["checks"]}
        assert lib["status"] == "built" and all(c["result"] != "FAILED" for c in checks.values()), lib
        assert checks["loads and computes"]["result"] == "passed", checks["loads and computes"]
        # The CUDA op on the GPU too; the other on the CPU alone (nothing for the GPU dispatches to it).
        kernels = checks["kernels registered"]
        gpu, cpu = {"torch": ("CPU, CUDA, Meta", "CPU, Meta"), "tensorflow": ("CPU, GPU", "CPU")}[lib["framework"]]
        assert kernels["result"] == "passed", kernels
        assert f"{gpu} kernels for scale" in kernels["detail"] and f"{cpu} kernels for shift" in kernels["detail"]
        assert any(c["check"] == "CUDA architectures" and c["result"] == "passed" for c in lib["checks"]), lib
    assert manifest["selftest"]["status"] == "built"  # for scale


def test_ops_without_cuda_kernels_build_cpu_only_where_nvcc_is(tmp_path):
    """CMake directly, as `pip install .` runs it: no CUDA sources at all is a
    CPU-only build (it was a generate error: a CUDA library without sources)."""
    ops = tmp_path / "cpuops"
    new_cpu_only_op(ops, "shift")
    build = tmp_path / "build"
    # TensorRT headers where the compile check has them (tests/test_tensorrt.py): its plugins need CUDA kernels.
    trt = [d for d in os.environ.get("OPFORGE_TENSORRT_HEADERS", "").split(os.pathsep) if d.strip()][:1]
    # OPFORGE_ADAPTER_CUDA=ON: as with a GPU TensorFlow, which must still get no CUDA code here.
    configure = subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(build), "-DOPFORGE_ADAPTER_CUDA=ON",
         f"-DOPFORGE_FRAMEWORKS=torch;tensorflow{';tensorrt' if trt else ''}",
         f"-DOPFORGE_OPS_DIR={ops}", "-DOPFORGE_NAMESPACE=cpuops", f"-DOPFORGE_PYTHON={sys.executable}",
         f"-DCMAKE_CUDA_COMPILER={nvcc_or_skip()}", *(f"-DTensorRT_ROOT={d}" for d in trt),
         "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    assert "no op has a CUDA kernel: CPU-only libraries" in configure.stdout
    proc = subprocess.run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    info = json.loads((build / "build_info.json").read_text())
    for fw in ("torch", "tensorflow"):
        assert info["frameworks"][fw]["status"] == "BUILT" and info["frameworks"][fw]["reason"].endswith("; CPU-only")
    assert info["selftest"] == "not built: no op has a CUDA kernel", info
    if trt:
        assert info["frameworks"]["tensorrt"]["reason"] == "TensorRT plugins need CUDA kernels; no op has a CUDA kernel"
    # The op computes in torch, on the CPU.
    script = (f"import torch; torch.ops.load_library({str(build / 'libcpuops_torch.so')!r}); "
              "a, b = torch.arange(4.0), torch.ones(4); "
              "y = torch.ops.cpuops.shift(a, b, 0.5); assert y.tolist() == [0.5, 1.5, 2.5, 3.5], y; "
              "assert not torch._C._dispatch_has_kernel_for_dispatch_key('cpuops::shift', 'CUDA')")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.parametrize("mismatch", ["spec declares cuda", "op.cmake lists CUDA"])
def test_a_spec_and_op_cmake_that_disagree_on_cuda_stop_the_compiler_with_what_to_do(tmp_path, mismatch):
    """CMake directly, as `pip install .` runs it (`opforge build` says the same before CMake). Without
    the check, a spec declaring cuda() failed at link time, and CUDA sources the spec did not declare were
    compiled and then silently never called: no CUDA kernel in any framework."""
    ops = tmp_path / "cpuops"
    new_cpu_only_op(ops, "shift")
    spec, op_cmake = ops / "shift" / "shift.h", ops / "shift" / "op.cmake"
    if mismatch == "spec declares cuda":
        text = spec.read_text()
        assert "OPFORGE_OP(Spec)" in text
        spec.write_text(text.replace("};\nOPFORGE_OP(Spec)",
                                     "  static const char* cuda(const Args& a, Stream s);\n};\nOPFORGE_OP(Spec)"))
        expected = "the spec declares cuda(), but its op.cmake lists no CUDA sources"
    else:
        (ops / "shift" / "shift.cu").write_text('#include "shift.h"\n')
        op_cmake.write_text(op_cmake.read_text().replace(")", " CUDA shift.cu)"))
        expected = "op.cmake lists CUDA sources, but the spec declares no static const char* cuda(const Args&, Stream)"
    build = tmp_path / "build"
    configure = subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(build), "-DOPFORGE_FRAMEWORKS=onnxruntime", "-DOPFORGE_CUDA=OFF",
         f"-DOPFORGE_OPS_DIR={ops}", "-DOPFORGE_NAMESPACE=cpuops", f"-DOPFORGE_PYTHON={sys.executable}"],
        capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    proc = subprocess.run(["cmake", "--build", str(build), "--target", "opforge_onnxruntime"], capture_output=True,
                          text=True)
    assert proc.returncode != 0 and expected in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_a_cuda_tensor_gets_torchs_own_error_from_an_op_without_a_cuda_kernel(tmp_path):
    """On a GPU, in a torch with CUDA: the op with a CUDA kernel computes on the GPU as on the CPU; the op
    without one raises torch's NotImplementedError for the CUDA backend, and the process goes on."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip(f"no CUDA device visible to torch {torch.__version__}: no CUDA tensor to pass")
    ops = tmp_path / "myops"
    shutil.copytree(REPO / "examples" / "myops", ops)  # scale: CPU and CUDA kernels
    new_cpu_only_op(ops, "shift")
    build = tmp_path / "build"
    configure = subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(build), "-DOPFORGE_FRAMEWORKS=torch", f"-DOPFORGE_OPS_DIR={ops}",
         "-DOPFORGE_NAMESPACE=myops", f"-DOPFORGE_PYTHON={sys.executable}", f"-DCMAKE_CUDA_COMPILER={nvcc_or_skip()}",
         "-DCMAKE_CUDA_ARCHITECTURES=native", "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    proc = subprocess.run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    script = (f"import torch; torch.ops.load_library({str(build / 'libmyops_torch.so')!r}); "
              "x = torch.linspace(-3, 3, 1000); "
              "y = torch.ops.myops.scale(x.cuda(), 1.5); assert y.is_cuda, y.device; "
              "assert torch.equal(y.cpu(), torch.ops.myops.scale(x, 1.5)); "
              "a, b = torch.arange(4.0), torch.ones(4)\n"
              "try:\n  torch.ops.myops.shift(a.cuda(), b.cuda(), 0.5)\n"
              "except NotImplementedError as e:\n  print(str(e).splitlines()[0])\n"
              "else:\n  raise SystemExit('shift ran on CUDA tensors')\n"
              "assert torch.ops.myops.shift(a, b, 0.5).tolist() == [0.5, 1.5, 2.5, 3.5]")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Could not run 'myops::shift' with arguments from the 'CUDA' backend" in run.stdout, run.stdout

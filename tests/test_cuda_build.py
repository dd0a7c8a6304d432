"""Every CUDA kernel compiles with nvcc, for every default architecture.

Needs nvcc only (no GPU): the GPU runs of these kernels are in the
framework tests, which skip without a device."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from opcases import CUDA_OPS, REPO


def test_every_cuda_source_compiles(tmp_path):
    nvcc = os.environ.get("CUDACXX") or shutil.which("nvcc")
    if not nvcc:
        pytest.skip("nvcc not found on PATH (or CUDACXX): the CUDA kernels cannot be compiled here")
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), "-DOPFORGE_FRAMEWORKS=",
                    f"-DCMAKE_CUDA_COMPILER={nvcc}"], check=True, capture_output=True, text=True)
    proc = subprocess.run(["cmake", "--build", str(build), "--target", "opforge_kernels_cuda",
                           "-j", str(os.cpu_count() or 2)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    objects = {p.name: p for p in build.rglob("*.cu.o")}
    assert sorted(objects) == sorted(f"{op}.cu.o" for op in CUDA_OPS)
    for name, path in objects.items():  # real device code, not an empty stub
        with open(path, "rb") as f:
            fatbin = ELFFile(f).get_section_by_name(".nv_fatbin")
        assert fatbin is not None and fatbin.data_size > 1000, name


def test_a_provisioned_cuda_13_toolkit_compiles_every_kernel(tmp_path, monkeypatch):
    """Triton 26.09's CUDA 13.4, provisioned from PyPI into an empty cache as
    `opforge build --release 26.09` does: from 13.3 on the CCCL wheel carries
    CCCL's own version, so only NVIDIA's cuda-toolkit metapackage knows which
    one a CUDA minor ships with. Its nvcc, crt, nvvm and CCCL compile the kernels."""
    from opforge import cuda_toolkit, releases

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cuda = releases.get_release("26.09").version("cuda")
    tk = cuda_toolkit.provision(cuda, log=lambda *_: None)
    assert (tk.version.major, tk.version.minor) == (cuda.major, cuda.minor), tk.source
    assert "cuda-toolkit[nvcc,cccl]" in tk.source
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), "-DOPFORGE_FRAMEWORKS=",
                    f"-DCMAKE_CUDA_COMPILER={tk.nvcc}", f"-DCUDAToolkit_ROOT={tk.root}",
                    "-DCMAKE_CUDA_ARCHITECTURES=90"], check=True, capture_output=True, text=True)
    proc = subprocess.run(["cmake", "--build", str(build), "--target", "opforge_kernels_cuda",
                           "-j", str(os.cpu_count() or 2)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    assert sorted(p.name for p in build.rglob("*.cu.o")) == sorted(f"{op}.cu.o" for op in CUDA_OPS)


def test_tensorflow_and_onnxruntime_adapters_link_their_cuda_kernels(tmp_path):
    """The adapters' CUDA branches (TensorFlow's GPU kernels, ONNX Runtime's
    CUDA-provider ops) compile and link, even where the frameworks installed
    here are CPU builds: OPFORGE_ADAPTER_CUDA=ON forces them."""
    nvcc = os.environ.get("CUDACXX") or shutil.which("nvcc")
    if not nvcc:
        pytest.skip("nvcc not found on PATH (or CUDACXX): the CUDA kernels cannot be compiled here")
    import opforge

    frameworks = [fw for fw in ("tensorflow", "onnxruntime")
                  if opforge.build_info()["frameworks"][fw]["status"] == "BUILT"]
    if not frameworks:
        pytest.skip("neither TensorFlow nor the ONNX Runtime headers were available to this installation's build")
    build = tmp_path / "build"
    configure = subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), f"-DOPFORGE_FRAMEWORKS={';'.join(frameworks)}",
                                f"-DOPFORGE_PYTHON={sys.executable}", "-DOPFORGE_ADAPTER_CUDA=ON",
                                "-DCMAKE_CUDA_ARCHITECTURES=90", f"-DCMAKE_CUDA_COMPILER={nvcc}"],
                               capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    proc = subprocess.run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    from opforge import elf

    for fw in frameworks:
        lib = build / f"libopforge_{fw}.so"
        assert elf.cudart_majors(lib), f"{lib.name} links no libcudart: no CUDA kernels in it"

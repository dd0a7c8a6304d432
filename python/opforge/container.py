"""The container toolchain: build inside the release's own NGC images.

Exact by construction: the library is compiled and tested next to the very
torch / TensorFlow / TensorRT build that Triton YY.MM ships. Needs a docker
engine with access to nvcr.io (none runs on opforge's CI machine, so this
path is not exercised there). ONNX Runtime needs no container: its library
is built from headers for the release's API version (pip toolchain).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from .releases import NO_BACKEND, Release
from .cuda_toolkit import cuda_architectures
from .toolchains import SDK, PipToolchain

# The NGC image each framework's library is built in (docker/README.md).
IMAGES = {
    "torch": "nvcr.io/nvidia/pytorch:{release}-py3",
    "tensorflow": "nvcr.io/nvidia/tensorflow:{release}-tf2-py3",
    "tensorrt": "nvcr.io/nvidia/tensorrt:{release}-py3",
}
SCRIPT = "docker/ngc-env.sh"  # installs cmake/ninja if an image lacks them, then runs the command


class ContainerToolchain:
    name = "container"

    def __init__(self, release: Release, log=print, shared=()):
        self.release = release
        self.log = log
        self.pip = PipToolchain(release, log)
        self.shared = [Path(p).resolve() for p in shared]

    @functools.cache
    def gpus(self) -> tuple[str, ...]:
        """`--gpus all` where docker can hand GPUs to a container (the NVIDIA
        container toolkit: an nvidia runtime, or its hook); elsewhere docker
        refuses the flag, so the containers run without GPUs and only the
        CUDA checks that need one are not run."""
        try:
            runtimes = subprocess.run(["docker", "info", "--format", "{{json .Runtimes}}"], capture_output=True,
                                      text=True, timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            runtimes = ""
        if '"nvidia"' in runtimes or shutil.which("nvidia-container-runtime-hook"):
            return ("--gpus", "all")
        self.log("docker has no NVIDIA runtime: the build containers run without GPUs")
        return ()

    def sdk(self, framework: str) -> SDK:
        r = self.release
        if framework == "onnxruntime":
            return self.pip.sdk(framework)
        if framework == "tensorflow" and r.tensorflow == NO_BACKEND:
            return SDK(framework, False, reason=f"Triton {r.name} has no TensorFlow backend "
                       "(dropped after 25.02)")
        image = IMAGES[framework].format(release=r.name)
        script = Path(__file__).resolve().parent / "source" / SCRIPT
        if not script.is_file():  # running from a checkout
            script = Path(__file__).resolve().parents[2] / SCRIPT
        # Same absolute paths inside and out (sources, ops folder, build tree,
        # this package): the orchestrator reads the results where it left them.
        mounts = [a for p in dict.fromkeys([*self.shared, script.parent]) for a in ("-v", f"{p}:{p}")]
        runner = ("docker", "run", "--rm", *self.gpus(), "-e", "TF_CPP_MIN_LOG_LEVEL=3", *mounts,
                  "-u", f"{os.getuid()}:{os.getgid()}", "-e", "HOME=/tmp", "-w", "/tmp", image,
                  "bash", str(script))
        version = {"torch": r.pytorch.ngc, "tensorflow": r.tensorflow, "tensorrt": r.tensorrt}[framework]
        args = ["-DOPFORGE_PYTHON=python3"]
        if framework == "tensorrt":
            args = ["-DTensorRT_ROOT=/usr"]
        cuda = r.version("cuda")
        cuda_args = ["-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc"]
        if cuda is not None:
            cuda_args.append(f"-DCMAKE_CUDA_ARCHITECTURES={cuda_architectures(cuda, cuda)}")
        return SDK(framework, True, version=version, match=f"exact: built and tested in {image}",
                   cmake_args=args, python="python3" if framework != "tensorrt" else None,
                   runner=runner, cuda_args=cuda_args)

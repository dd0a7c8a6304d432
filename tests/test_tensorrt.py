"""TensorRT plugins: compile checks against TensorRT headers, a TensorRT-free
harness, and engines on a GPU.

Compile check: set OPFORGE_TENSORRT_HEADERS to one or more TensorRT header
folders (os.pathsep-separated; a TensorRT install, or a release tag's include/
folder). Each one gets a fresh CMake build of the TensorRT sources and the
CUDA kernels. Needs cmake and nvcc, no GPU and no libnvinfer.

Harness (tests/tensorrt_harness): with the same headers, the real plugin
library is linked against opforge's stand-in libnvinfer, loaded, and driven
through TensorRT's interfaces the way TensorRT drives it; with a GPU, its
enqueue runs against each op's CPU kernel.

Runtime check: needs `import tensorrt`, a GPU, and an opforge installation
whose TensorRT library was built. It builds one engine per shared op case
(tests/opcases.py) holding the plugin, runs it and compares the result with
the op's numpy reference (ops/<op>/reference.py).
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from opcases import CUDA_OPS, ORT_TYPES, REPO, all_cases, assert_matches

NAMESPACE = "opforge"
PREFIX = "Opforge"
# TensorRT plugin = PREFIX + the op's CamelCase name, as in ONNX Runtime; ops without a CUDA kernel have none.
PLUGIN_OPS = {op: camel for op, camel in ORT_TYPES.items() if op in CUDA_OPS}


# ---------------------------------------------------------------------------
# Compile check
# ---------------------------------------------------------------------------


def _header_dirs() -> list[str]:
    value = os.environ.get("OPFORGE_TENSORRT_HEADERS", "")
    return [d for d in value.split(os.pathsep) if d.strip()]


def _nvcc() -> str | None:
    for candidate in (os.environ.get("CUDACXX"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.mark.parametrize("generator", ["Unix Makefiles", "Ninja"])  # release builds use Ninja
@pytest.mark.parametrize("headers", _header_dirs() or [None], ids=lambda d: d or "unset")
def test_tensorrt_sources_compile(headers, generator, tmp_path):
    if headers is None:
        pytest.skip(
            "OPFORGE_TENSORRT_HEADERS is not set: set it to TensorRT header folders "
            f"({os.pathsep!r}-separated; a TensorRT install or a release tag's include/) "
            "to compile-check the TensorRT plugins"
        )
    if _nvcc() is None:
        pytest.skip("nvcc not found (PATH, CUDACXX, /usr/local/cuda/bin): the TensorRT plugins need the CUDA kernels")
    if shutil.which("cmake") is None:
        pytest.skip("cmake not found")
    if not Path(headers).is_dir():
        pytest.fail(f"OPFORGE_TENSORRT_HEADERS names {headers}, which is not a folder")
    if generator == "Ninja" and shutil.which("ninja") is None:
        pytest.skip("ninja not found")

    build = tmp_path / "build"
    configure = subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(build), "-G", generator, "-DOPFORGE_FRAMEWORKS=tensorrt",
         f"-DTensorRT_ROOT={headers}", "-DCMAKE_CUDA_ARCHITECTURES=75"],
        capture_output=True, text=True,
    )
    assert configure.returncode == 0, configure.stdout + configure.stderr

    report = json.loads((build / "build_info.json").read_text())["frameworks"]["tensorrt"]
    if "no CUDA compiler" in report["reason"]:
        pytest.skip(f"CMake found no CUDA compiler: {report['reason']}")
    compiled = report["status"] == "BUILT" or "compile-checked" in report["reason"]
    assert compiled, f"TensorRT sources were not compiled for {headers}: {report['reason']}"

    result = subprocess.run(
        ["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)],
        capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    ours = [line for line in output.splitlines() if "warning" in line.lower() and str(REPO) in line]
    assert not ours, "warnings in opforge's code:\n" + "\n".join(ours)
    # What "compile-checked" claims: the plugin sources and every op's CUDA kernel.
    objects = {p.name for p in build.rglob("*.o")}
    assert {"tensorrt_plugin_h.cc.o", "exports.cc.o"} <= objects, objects
    assert {f"{op}.cu.o" for op in CUDA_OPS} <= objects, objects


@pytest.mark.parametrize("headers", _header_dirs()[:1] or [None], ids=lambda d: d or "unset")
def test_a_debian_layout_tensorrt_root_is_found(headers, tmp_path):
    """TensorRT_ROOT=/usr in an NGC image: Debian's libnvinfer-dev keeps the
    headers in include/x86_64-linux-gnu (the container toolchain passes /usr)."""
    if headers is None:
        pytest.skip("OPFORGE_TENSORRT_HEADERS is not set: no TensorRT headers to lay out")
    if shutil.which("cmake") is None:
        pytest.skip("cmake not found")
    root = tmp_path / "usr"
    shutil.copytree(headers, root / "include" / "x86_64-linux-gnu")
    build = tmp_path / "build"
    _run(["cmake", "-S", REPO, "-B", build, "-DOPFORGE_FRAMEWORKS=tensorrt", f"-DTensorRT_ROOT={root}",
          "-DCMAKE_CUDA_ARCHITECTURES=75"])
    report = json.loads((build / "build_info.json").read_text())["frameworks"]["tensorrt"]
    assert "not found" not in report["reason"] and report.get("version"), report


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    return proc


@pytest.mark.parametrize("headers", _header_dirs() or [None], ids=lambda d: d or "unset")
def test_plugins_through_tensorrt_interfaces(headers, tmp_path):
    """The harness: registration under "opforge", fields, refusals, V2
    buffers, formats, shapes, the loader's entry points; see harness.cc."""
    if headers is None:
        pytest.skip("OPFORGE_TENSORRT_HEADERS is not set: the TensorRT harness needs TensorRT headers (a release "
                    "tag's include/ folder) to build the stand-in libnvinfer and the plugins against")
    if _nvcc() is None or shutil.which("cmake") is None:
        pytest.skip("the harness needs nvcc (the plugins' CUDA kernels) and cmake")
    from opforge import elf

    include = Path(headers) / "include" if (Path(headers) / "include" / "NvInferVersion.h").is_file() else Path(headers)
    root = tmp_path / "tensorrt"  # a TensorRT layout: the given headers, the stand-in as lib/libnvinfer.so
    (root / "lib").mkdir(parents=True)
    (root / "include").symlink_to(include)
    harness_src, harness = REPO / "tests" / "tensorrt_harness", tmp_path / "harness"
    _run(["cmake", "-S", harness_src, "-B", harness, f"-DTensorRT_INCLUDE={include}"])
    _run(["cmake", "--build", harness, "--target", "nvinfer"])
    shutil.copy(harness / "libnvinfer.so", root / "lib" / "libnvinfer.so")
    build = tmp_path / "opforge"
    _run(["cmake", "-S", REPO, "-B", build, "-DOPFORGE_FRAMEWORKS=tensorrt", f"-DTensorRT_ROOT={root}",
          "-DCMAKE_CUDA_ARCHITECTURES=75"])
    report = json.loads((build / "build_info.json").read_text())["frameworks"]["tensorrt"]
    if "no CUDA compiler" in report["reason"]:
        pytest.skip(f"CMake found no CUDA compiler: {report['reason']}")
    assert report["status"] == "BUILT", report
    _run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)])
    lib = build / "libopforge_tensorrt.so"
    major = int(report["version"].split(".")[0])
    entry = "getCreators" if major >= 10 else "getPluginCreators"
    assert elf.read(lib).exported == {entry, "setLoggerFinder"}  # nm -D: the loader's entry points alone

    _run(["cmake", "-S", harness_src, "-B", harness, f"-DOPFORGE_BUILD={build}"])
    _run(["cmake", "--build", harness, "--target", "harness"])
    proc = subprocess.run([harness / "harness", lib, NAMESPACE], capture_output=True, text=True, timeout=300)
    out = proc.stdout
    print(out)  # the harness's report, with -s or on failure
    assert proc.returncode == 0 and "FAIL" not in out, out + proc.stderr[-3000:]
    for op in PLUGIN_OPS.values():
        plugin = PREFIX + op
        assert f"ok {plugin} registered under namespace 'opforge'" in out
        assert f'ok {plugin} found by getCreator(name, "1", "opforge")' in out
    assert "createPlugin refuses a missing 'lo'" in out and "createPlugin refuses an out-of-range 'epsilon'" in out
    assert "OpforgeModulo onShapeChange refuses" in out if major >= 10 else "OpforgeModulo configurePlugin logs" in out
    if major < 10:
        assert "ok OpforgeRmsNorm serialize / deserializePlugin round trip" in out
        assert "ok OpforgeRmsNorm deserializePlugin refuses a corrupt 'epsilon'" in out
    int64 = "takes int32, int64" if major >= 10 else "takes int32\n"
    assert f"ok OpforgeZeroOut supportsFormatCombination over every DataType: {int64}" in out
    assert f"ok {entry} hands over every creator, withdrawn from the registry first" in out


# ---------------------------------------------------------------------------
# Runtime check
# ---------------------------------------------------------------------------


class _CudaRuntime:
    """Just enough of libcudart, through ctypes, to feed an engine."""

    H2D, D2H = 1, 2

    def __init__(self) -> None:
        # The plugin library is loaded first, so the libcudart it needs is already
        # in the process and dlopen by soname returns that one.
        for name in ("libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"):
            try:
                self.lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        else:
            raise OSError("libcudart not found")
        self.lib.cudaGetErrorString.restype = ctypes.c_char_p
        self.lib.cudaMemcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        self.lib.cudaFree.argtypes = [ctypes.c_void_p]

    def _check(self, rc: int, what: str) -> None:
        if rc != 0:
            raise RuntimeError(f"{what}: {self.lib.cudaGetErrorString(rc).decode()}")

    def device_count(self) -> int:
        count = ctypes.c_int(0)
        rc = self.lib.cudaGetDeviceCount(ctypes.byref(count))
        return count.value if rc == 0 else 0

    def to_device(self, array: np.ndarray) -> int:
        ptr = ctypes.c_void_p()
        self._check(self.lib.cudaMalloc(ctypes.byref(ptr), ctypes.c_size_t(max(array.nbytes, 1))), "cudaMalloc")
        host = np.ascontiguousarray(array)
        self._check(self.lib.cudaMemcpy(ptr, host.ctypes.data, host.nbytes, self.H2D), "cudaMemcpy")
        return ptr.value

    def empty(self, nbytes: int) -> int:
        ptr = ctypes.c_void_p()
        self._check(self.lib.cudaMalloc(ctypes.byref(ptr), ctypes.c_size_t(max(nbytes, 1))), "cudaMalloc")
        return ptr.value

    def to_host(self, ptr: int, out: np.ndarray) -> np.ndarray:
        self._check(self.lib.cudaMemcpy(out.ctypes.data, ptr, out.nbytes, self.D2H), "cudaMemcpy")
        return out

    def free(self, ptr: int) -> None:
        self.lib.cudaFree(ptr)

    def synchronize(self) -> None:
        self._check(self.lib.cudaDeviceSynchronize(), "cudaDeviceSynchronize")


@pytest.fixture(scope="module")
def trt_env():
    try:
        import tensorrt as trt
    except Exception as exc:  # ImportError, or OSError from a missing libnvinfer
        pytest.skip(f"import tensorrt failed: {exc}")
    try:
        import opforge

        path = opforge.library_path("tensorrt")
    except Exception as exc:  # LibraryNotBuilt names the reason the build gave
        pytest.skip(f"no opforge TensorRT library: {exc}")
    lib = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)  # registers the plugin creators
    try:
        cuda = _CudaRuntime()
    except OSError as exc:
        pytest.skip(f"no CUDA runtime to feed the engines: {exc}")
    if cuda.device_count() == 0:
        pytest.skip("no GPU present (cudaGetDeviceCount found none)")
    return trt, cuda, lib


def _major(trt) -> int:
    return int(trt.__version__.split(".")[0])


def _creator(trt, op: str):
    registry = trt.get_plugin_registry()
    name = PREFIX + op
    if _major(trt) >= 10:
        creator = registry.get_creator(name, "1", NAMESPACE)
        listed = registry.all_creators
    else:
        creator = registry.get_plugin_creator(name, "1", NAMESPACE)
        listed = registry.plugin_creator_list
    if creator is None:
        known = sorted(
            f"{getattr(c, 'plugin_namespace', '?')}::{getattr(c, 'name', '?')} v{getattr(c, 'plugin_version', '?')}"
            for c in listed
        )
        pytest.fail(f"plugin creator {NAMESPACE}::{name} v1 is not registered; registry has {known}")
    return creator


def _fields(trt, attrs: dict[str, float]):
    return trt.PluginFieldCollection(
        [trt.PluginField(k, np.array([v], dtype=np.float32), trt.PluginFieldType.FLOAT32) for k, v in attrs.items()]
    )


def _create(trt, creator, name: str, attrs: dict[str, float]):
    fc = _fields(trt, attrs)
    if _major(trt) >= 10:
        return creator.create_plugin(name, fc, trt.TensorRTPhase.BUILD)
    return creator.create_plugin(name, fc)


def _run_plugin(trt, cuda, op: str, attrs: dict[str, float], inputs: list[np.ndarray]) -> np.ndarray:
    """Builds an engine holding only the plugin, serializes it, runs it."""
    dtypes = {np.dtype(np.float32): trt.float32, np.dtype(np.float16): trt.float16, np.dtype(np.int32): trt.int32}
    if _major(trt) >= 10:
        dtypes[np.dtype(np.int64)] = trt.int64
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    if _major(trt) >= 10:
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    else:
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    tensors = [network.add_input(f"in{i}", dtypes[a.dtype], a.shape) for i, a in enumerate(inputs)]
    plugin = _create(trt, _creator(trt, op), op, attrs)
    assert plugin is not None, f"{PREFIX}{op}: createPlugin failed for {attrs}"
    if _major(trt) >= 10:
        layer = network.add_plugin_v3(tensors, [], plugin)
    else:
        layer = network.add_plugin_v2(tensors, plugin)
    out = layer.get_output(0)
    out.name = "out"
    network.mark_output(out)
    config = builder.create_builder_config()
    if _major(trt) < 10 and any(a.dtype == np.float16 for a in inputs):
        config.set_flag(trt.BuilderFlag.FP16)
    serialized = builder.build_serialized_network(network, config)
    assert serialized is not None, f"{PREFIX}{op}: engine build failed"
    engine = trt.Runtime(logger).deserialize_cuda_engine(serialized)  # the plugin's deserialization path
    assert engine is not None
    context = engine.create_execution_context()

    result = np.empty(inputs[0].shape, dtype=inputs[0].dtype)
    pointers = [cuda.to_device(a) for a in inputs]
    out_ptr = cuda.empty(result.nbytes)
    try:
        for i, ptr in enumerate(pointers):
            context.set_tensor_address(f"in{i}", ptr)
        context.set_tensor_address("out", out_ptr)
        assert context.execute_async_v3(0), f"{PREFIX}{op}: enqueue failed"
        cuda.synchronize()
        return cuda.to_host(out_ptr, result)
    finally:
        for ptr in [*pointers, out_ptr]:
            cuda.free(ptr)


def _trt_cases():
    # Zero-volume tensors are left out: TensorRT rejects some empty network
    # inputs, and the kernels' empty path is covered by the other frameworks.
    return [c for c in all_cases() if all(a.size for a in c.inputs) and c.op in PLUGIN_OPS]


@pytest.mark.parametrize("case", _trt_cases(), ids=lambda c: c.id)
def test_plugin_matches_reference(trt_env, case):
    trt, cuda, _ = trt_env
    if case.dtype == "int64" and _major(trt) < 10:
        pytest.skip(f"TensorRT {trt.__version__} has no int64 tensors: {case.op} is int32-only there")
    got = _run_plugin(trt, cuda, PLUGIN_OPS[case.op], case.attrs, case.inputs)
    assert_matches(case, got)


def test_rms_norm_default_epsilon(trt_env):
    trt, cuda, _ = trt_env
    case = next(c for c in _trt_cases() if c.op == "rms_norm" and c.dtype == "float32")
    # no epsilon field: 1e-6, on rows small enough that epsilon moves the result
    case = dataclasses.replace(case, attrs={}, inputs=[np.array([[1e-3, -2e-3, 0.0, 5e-4]], np.float32),
                                                       np.ones(4, np.float32)])
    assert_matches(case, _run_plugin(trt, cuda, "RmsNorm", {}, case.inputs))


def test_clip_without_required_field_returns_none(trt_env):
    trt, _, _ = trt_env
    try:
        plugin = _create(trt, _creator(trt, "Clip"), "Clip", {"lo": 0.0})
    except Exception:  # a binding may raise where createPlugin returned nullptr
        return
    assert plugin is None

"""A real Triton Inference Server for tests, on a CPU-only machine.

PyPI's `nvidia-pytriton==0.7.0` (manylinux_2_35 x86_64 wheel, ~55 MB) ships a
real `tritonserver` 2.51.0 (= Triton 24.10) with only the python backend. This
module installs it into a private venv of its own (never the venv that runs
pytest), cached at ~/.cache/opforge/tritonserver-venv (or
$OPFORGE_TRITONSERVER_VENV), and starts servers from it on free loopback ports.

API
    server_python() -> Path          the venv's python; provisions it on first call
                                     (raises ServerUnavailable when it cannot:
                                     no network, not linux x86_64/glibc >= 2.35)
    running_server(repo, *, extra_args=(), env=None, preload=None,
                   ld_library_path=(), startup_timeout=120, stop_timeout=30)
                                     context manager -> Server, live:
        .url ("http://127.0.0.1:<port>"), .client_url ("127.0.0.1:<port>"),
        .http_port/.grpc_port/.metrics_port, .log() (stdout+stderr so far),
        .models() -> [{name, version, state, reason}] (POST /v2/repository/index,
        '' for missing keys), .model(name), .infer(model, {name: array}, [outputs])
        (tritonclient.http, run in the server venv), .is_live(), .stop(),
        .returncode, .command, .started_seconds
    start_and_wait_exit(repo, *, env=None, timeout=60, extra_args=(), preload=None,
                        ld_library_path=()) -> (returncode, log)
                                     for servers expected to stop by themselves
    Exit codes are given as a shell shows them: 134 = abort (Popen's -6).
    ServerExited (.returncode, .log) when a server dies before it is live.
    run_server_python(code, *args)   code in the server venv (tritonclient is
                                     there, not in the pytest venv)
    write_python_double_model(repo, name="double")   a python-backend model,
                                     FP32 y = x * 2

How the server is set up (found by reading pytriton 0.7.0, which does the same
in pytriton/triton.py and pytriton/server/triton_server.py):
  * binary  <site-packages>/pytriton/tritonserver/bin/tritonserver, its
    libraries <site-packages>/nvidia_pytriton.libs/ on LD_LIBRARY_PATH.
  * `--backend-directory=<site-packages>/pytriton/tritonserver/backends`
    holds only python/libtriton_python.so: the wheel keeps the stub per Python
    version in pytriton/tritonserver/python_backend_stubs/<3.8..3.13>/. Without
    a `backends/python/triton_python_backend_stub` a python model is
    UNAVAILABLE: "Not found: triton_python_backend_stub is not found. Searched
    paths: <backends>/python and <backends>/python", so provisioning copies the
    stub of the venv's Python there (pytriton copies the whole tree into a
    workspace and does the same).
  * the stub links `libpython3.X.so.1.0` and embeds that interpreter; the
    backend starts it through `bash -c`. Its embedded Python finds its prefix
    through `python3` on PATH, so the venv's bin/ goes first on PATH (pytriton
    does the same): then sys.prefix is the venv and numpy is the venv's 1.26.4
    (nvidia-pytriton requires numpy<2). Without that, on this machine, the stub
    took pyenv's base 3.11.7 and its numpy 2.4.6 (it still worked for x * 2).
    The base interpreter's LIBDIR (pyenv's, which has libpython3.11.so.1.0)
    goes on LD_LIBRARY_PATH so that the libpython matches the venv's Python;
    Debian's /lib libpython3.11 (3.11.2) also worked. PYTHONPATH, PYTHONHOME,
    VIRTUAL_ENV of the caller are not passed on.
  * the venv is built beside its place and renamed into it (opforge.cache
    .staged_folder) under a file lock; scripts in <venv>/bin (pip, ...) keep
    the temporary path in their shebangs, so use `<venv>/bin/python -m pip`.

Verified on the CPU-only dev machine (2 cores, Debian 12 glibc 2.36, no GPU;
tritonserver 2.51.0 from nvidia-pytriton 0.7.0, tritonclient 2.73.0, numpy
1.26.4 in the server venv) -- the facts the `opforge deploy` tests rely on:

  Every start logs CUDA noise, harmless on a CPU machine:
    W ... pinned_memory_manager.cc:273] "Unable to allocate pinned system memory,
      pinned memory pool will not be available: CUDA driver version is insufficient
      for CUDA runtime version"
    E ... server.cc:241] "CudaDriverHelper has not been initialized."
    Error: Failed to initialize NVML
    W ... metrics.cc:798] "DCGM unable to start: DCGM initialization error"
  Times: provisioning 22-25 s (pip; packages in pip's cache). Live after
  ~1.5 s with one python model (~3 s when torch is preloaded), ~0.1 s with an
  empty repository; stop ~2.5 s with a python model loaded. A test that starts
  and stops one server: ~4-5 s.

  a. python backend model (backend: "python", y = x * 2 on FP32): READY;
     tritonclient.http infer of [1, 2, 3] answers [2, 4, 6]. In the stub,
     sys.executable is <venv>/bin/python3, sys.prefix <venv>, numpy 1.26.4 from
     the venv.

  b. Every config.pbtxt is parsed first; a model whose backend is missing then
     gets, in the index, state "UNAVAILABLE" and reason
       Invalid argument: unable to find backend library for backend '<b>', try specifying runtime on the model configuration.
     with <b> = 'onnxruntime' for backend: "onnxruntime" and for
     platform: "onnxruntime_onnx"; 'tensorflow' for platform:
     "tensorflow_savedmodel" and for backend: "tensorflow"; 'pytorch' for
     platform: "pytorch_libtorch" and for backend: "pytorch". Log line:
       E... model_lifecycle.cc:642] "failed to load '<m>' version 1: Invalid argument: unable to find backend library for backend '<b>', try specifying runtime on the model configuration."
     and the final model table says "UNAVAILABLE: Invalid argument: unable to ...".
     After any failed model: E... tritonserver.cc:2607] "Internal: failed to load all models"
     (with the default --exit-on-error=true the server then exits with 1;
     this module passes --exit-on-error=false, and it stays up).
     `model_operations { op_library_filename: "/x/lib.so" }` changes nothing:
     the same reason for the three (the file need not exist: Triton's core never
     opens it; the backend would), and a python model with it is still READY.
     A malformed config, `model_operations { bogus: 1 }`, is a different error:
       [libprotobuf ERROR .../text_format.cc:337] Error parsing text-format inference.ModelConfig: 4:25: Message type "inference.ModelOperations" has no field named "bogus".
         (4:25 is line:column in that config.pbtxt)
       E... model_repository_manager.cc:1460] "Poll failed for model directory '<m>': failed to read text proto from <repo>/<m>/config.pbtxt"
     and its index entry is the bare {"name": "<m>"} (no version, state or
     reason: models() gives '' for them); it is not in the final table.

  c. Places in a model repository (MODE_NONE; `double` is a python model):
     plain files are ignored silently anywhere:
       <repo>/libfoo.so, <repo>/double/libfoo.so, <repo>/double/1/opforge/libfoo.so
       (the last is the backend's business; the python backend ignores it):
       not in the index, no log line, the server stays up even with
       --exit-on-error=true.
     (iii) a non-numeric folder in a model folder, <repo>/double/opforge/ (also
       <repo>/double/.opforge/): not a model or version, `double` stays READY;
       a warning only, no exit with --exit-on-error=true:
       W... model_lifecycle.cc:111] "ignore version directory 'opforge' which fails to convert to integral number"
     (ii) a hidden folder at the root, <repo>/.opforge/: NOT ignored. Triton
       takes it for a model: not in the index, but
       E... model_repository_manager.cc:724] "failed to load model '.opforge': at least one version must be available under the version policy of model '.opforge'"
       the final table has "| .opforge | - | Not loaded: No model version was found |",
       then "Internal: failed to load all models": with --exit-on-error=true
       (Triton's default) the server exits with 1.
     a plain folder at the root, <repo>/opforge/: index entry {"name": "opforge"}
       (no state), E... model_repository_manager.cc:1460] "Poll failed for model
       directory 'opforge': Invalid model name: Could not determine backend for
       model 'opforge' with no backend in model configuration. Expected model name
       of the form 'model.<backend_name>'."; exits with 1 under --exit-on-error=true.
     So .so files can live, without a log line, as files at the root or in a
     model's folder (or a version folder); a folder of them only inside a model
     folder, at the cost of one warning. No folder at the root is ignored.

  d. LD_PRELOAD=<.venv>/site-packages/opforge/lib/libopforge_torch.so with
     <.venv>/site-packages/torch/lib on LD_LIBRARY_PATH (torch 2.13.0+cpu): the
     server starts, is live (~3 s), the python model is READY and answers. The
     preload reaches the server's children too: the python backend stub (started
     through bash -c) has libopforge_torch.so mapped as well.
     Without torch/lib on LD_LIBRARY_PATH: exit 127 at once,
       .../tritonserver: error while loading shared libraries: libtorch_cpu.so: cannot open shared object file: No such file or directory
     Two copies of that library (the .so copied to another path), both
     preloaded: the server aborts in the dynamic loader within ~0.2 s, before it
     logs anything else, returncode 134 (SIGABRT; Popen's -6), log:
       terminate called after throwing an instance of 'c10::Error'
         what():  Only a single TORCH_LIBRARY can be used to register the namespace opforge; please put all of your definitions in a single TORCH_LIBRARY block.  If you were trying to specify implementations, consider using TORCH_LIBRARY_IMPL (which can be duplicated).  If you really intended to define operators for a single namespace in a distributed way, you can use TORCH_LIBRARY_FRAGMENT to explicitly indicate this.  Previous registration of TORCH_LIBRARY was registered at /work/main/cpp/torch/library.cc:7; latest registration was registered at /work/main/cpp/torch/library.cc:7
       Exception raised from registerLibrary at /__w/pytorch/pytorch/aten/src/ATen/core/dispatch/Dispatcher.cpp:215 (most recent call first):
       ...
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

PYTRITON = "nvidia-pytriton==0.7.0"
PACKAGES = (PYTRITON, "tritonclient[http]==2.73.0", "numpy==1.26.4")  # pinned: a cached venv is the one CI builds
LAYOUT = 1  # bump to rebuild cached venvs when provisioning changes
STUB_VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")

_CLIENT_CODE = r"""
import json, sys
import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import np_to_triton_dtype
req = json.load(sys.stdin)
client = httpclient.InferenceServerClient(url=req["url"])
inputs = []
for i in req["inputs"]:
    a = np.asarray(i["data"], dtype=np.dtype(i["dtype"])).reshape(i["shape"])
    t = httpclient.InferInput(i["name"], list(a.shape), np_to_triton_dtype(a.dtype))
    t.set_data_from_numpy(a)
    inputs.append(t)
res = client.infer(req["model"], inputs,
                   outputs=[httpclient.InferRequestedOutput(o) for o in req["outputs"]])
out = {}
for o in req["outputs"]:
    a = res.as_numpy(o)
    out[o] = {"dtype": a.dtype.str, "shape": list(a.shape), "data": a.ravel().tolist()}
print(json.dumps(out))
"""


class ServerUnavailable(RuntimeError):
    """The server cannot run here (platform, no Python it can use): a skip."""


class ProvisioningFailed(RuntimeError):
    """pip or venv failed where the server could run: an error, not a skip
    (CI would otherwise lose the real-server tests without a word)."""


class ServerExited(RuntimeError):
    """The server stopped before it was live. returncode is as a shell shows it
    (128 + N for a death by signal N: 134 for an abort)."""

    def __init__(self, returncode: int, log: str, what: str = "tritonserver exited before it was live"):
        self.returncode = returncode
        self.log = log
        super().__init__(f"{what}: exit code {returncode}{signal_note(returncode)}\n"
                         f"--- log tail ---\n{log[-4000:]}")


def shell_returncode(popen_returncode: int) -> int:
    """Popen gives -N for a death by signal N; a shell (and the brief) says 128 + N."""
    return 128 - popen_returncode if popen_returncode < 0 else popen_returncode


def signal_note(returncode: int | None) -> str:
    if returncode is not None and returncode > 128:
        try:
            return f" (signal {signal.Signals(returncode - 128).name})"
        except ValueError:
            pass
    return ""


# ---------------------------------------------------------------------------
# provisioning


def venv_dir() -> Path:
    explicit = os.environ.get("OPFORGE_TRITONSERVER_VENV")
    if explicit:
        return Path(explicit)
    try:
        from opforge.cache import cache_dir
        return cache_dir() / "tritonserver-venv"
    except ImportError:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        return Path(base) / "opforge" / "tritonserver-venv"


def _base_python() -> str:
    """python3.11 (the brief's choice), else this interpreter when a stub exists
    for its version; $OPFORGE_TRITONSERVER_BASE_PYTHON overrides."""
    explicit = os.environ.get("OPFORGE_TRITONSERVER_BASE_PYTHON")
    if explicit:
        return explicit
    found = shutil.which("python3.11")
    if found:
        return found
    if f"{sys.version_info[0]}.{sys.version_info[1]}" in STUB_VERSIONS:
        return sys.executable
    raise ServerUnavailable("no python3.11 (nor a Python 3.8-3.13 running pytest) to build "
                            "the tritonserver venv from")


def _platform_problem() -> str | None:
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return f"{PYTRITON} has only a linux x86_64 wheel (this is {sys.platform} {platform.machine()})"
    libc, version = platform.libc_ver()
    if libc == "glibc" and version and tuple(int(p) for p in version.split(".")[:2]) < (2, 35):
        return f"{PYTRITON} is a manylinux_2_35 wheel; this glibc is {version}"
    return None


_INFO_CODE = r"""
import json, sys, sysconfig, importlib.metadata as md, pathlib
import pytriton
root = pathlib.Path(pytriton.__file__).parent
libdir = sysconfig.get_config_var("LIBDIR") if sysconfig.get_config_var("Py_ENABLE_SHARED") else None
print(json.dumps({
    "python_version": f"{sys.version_info[0]}.{sys.version_info[1]}",
    "python_full": sys.version.split()[0],
    "base_libdir": libdir,
    "site_packages": str(root.parent),
    "packages": {n: md.version(n) for n in ("nvidia-pytriton", "tritonclient", "numpy")},
}))
"""


def _load_info(venv: Path) -> dict | None:
    try:
        info = json.loads((venv / "opforge-tritonserver.json").read_text())
    except (OSError, ValueError):
        return None
    if info.get("layout") != LAYOUT or info.get("requested") != list(PACKAGES):
        return None
    if not (venv / "bin" / "python").exists():
        return None
    return info


_info_cache: dict | None = None
_failure: Exception | None = None  # pip is tried once per process


def _provision() -> dict:
    global _info_cache, _failure
    if _info_cache is not None:
        return _info_cache
    if _failure is not None:
        raise _failure
    try:
        _info_cache = _provision_once()
    except (ServerUnavailable, ProvisioningFailed) as e:
        _failure = e
        raise
    return _info_cache


def _provision_once() -> dict:
    problem = _platform_problem()
    if problem:
        raise ServerUnavailable(problem)
    venv = venv_dir()
    info = _load_info(venv)
    if info is None:
        from opforge.cache import locked

        with locked(venv):  # another pytest worker may be building it
            info = _load_info(venv)
            if info is None:
                info = _build(venv)
    # paths inside the info are relative to the venv: it was built elsewhere
    return dict(info, site_packages=str(venv / info["site_packages_rel"]), venv=str(venv))


def _build(venv: Path) -> dict:
    from opforge.cache import staged_folder

    base = _base_python()
    started = time.monotonic()
    with staged_folder(venv) as stage:
        def run(cmd: list[str], what: str, timeout: int) -> str:
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired as e:
                raise ProvisioningFailed(f"{what} timed out after {timeout} s") from e
            if p.returncode != 0:
                tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-15:])
                raise ProvisioningFailed(f"{what} failed (exit {p.returncode}):\n{tail}")
            return p.stdout

        stage.chmod(0o755)  # mkdtemp made it 0700
        run([base, "-m", "venv", str(stage)], f"{base} -m venv", 300)
        py = str(stage / "bin" / "python")
        run([py, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q",
             *PACKAGES], f"pip install {' '.join(PACKAGES)} (needs PyPI)", 1200)
        info = json.loads(run([py, "-c", _INFO_CODE], "reading the venv", 120).strip().splitlines()[-1])
        version = info["python_version"]
        if version not in STUB_VERSIONS:
            raise ServerUnavailable(f"pytriton has no python backend stub for Python {version}")
        tree = Path(info["site_packages"]) / "pytriton" / "tritonserver"
        stub = tree / "python_backend_stubs" / version / "triton_python_backend_stub"
        dest = tree / "backends" / "python" / "triton_python_backend_stub"
        shutil.copy2(stub, dest)
        info.update(layout=LAYOUT, requested=list(PACKAGES), base_python=base,
                    site_packages_rel=os.path.relpath(info["site_packages"], stage),
                    build_seconds=round(time.monotonic() - started, 1))
        del info["site_packages"]
        (stage / "opforge-tritonserver.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def server_python() -> Path:
    """The server venv's python (provisions the venv on first call)."""
    return Path(_provision()["venv"]) / "bin" / "python"


def tritonserver_binary() -> Path:
    return Path(_provision()["site_packages"]) / "pytriton" / "tritonserver" / "bin" / "tritonserver"


def backend_directory() -> Path:
    return Path(_provision()["site_packages"]) / "pytriton" / "tritonserver" / "backends"


def run_server_python(code: str, *args: str, timeout: float = 120,
                      input: str | None = None) -> subprocess.CompletedProcess:
    """Runs code with the server venv's python (tritonclient, numpy 1.x)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LD_PRELOAD")}
    return subprocess.run([str(server_python()), "-c", code, *args], capture_output=True,
                          text=True, timeout=timeout, env=env, input=input)


# ---------------------------------------------------------------------------
# starting servers


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _server_env(env: Mapping[str, str] | None, ld_library_path: Sequence[str]) -> dict[str, str]:
    info = _provision()
    env = dict(env or {})
    out = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LD_PRELOAD", "LD_LIBRARY_PATH")}
    for k in ("PYTHONPATH", "PYTHONHOME"):
        if k in env:
            out[k] = env[k]
    lib_dirs = [str(p) for p in ld_library_path]
    if env.get("LD_LIBRARY_PATH"):
        lib_dirs.append(env["LD_LIBRARY_PATH"])
    lib_dirs.append(str(Path(info["site_packages"]) / "nvidia_pytriton.libs"))
    if info.get("base_libdir"):
        lib_dirs.append(info["base_libdir"])  # the libpython the stub embeds
    if os.environ.get("LD_LIBRARY_PATH"):
        lib_dirs.append(os.environ["LD_LIBRARY_PATH"])
    out.update({k: v for k, v in env.items() if k not in ("LD_LIBRARY_PATH", "LD_PRELOAD")})
    out["LD_LIBRARY_PATH"] = ":".join(lib_dirs)
    # the python backend stub finds its prefix (and numpy) through `python3` on PATH
    out["PATH"] = f"{Path(info['venv']) / 'bin'}:{env.get('PATH', os.environ.get('PATH', '/usr/bin:/bin'))}"
    return out


def _command(model_repository, ports: Sequence[int], extra_args: Sequence[str],
             preload, env: Mapping[str, str] | None, launcher=None) -> list[str]:
    """`env [LD_PRELOAD=...] tritonserver ...`: the preload is set by `env` for
    the server alone (not for this Python), and reaches its children.
    launcher: a launch script (`opforge deploy`'s) that names the repository
    and starts $TRITONSERVER itself; it gets the other arguments."""
    extra = [str(a) for a in extra_args]
    defaults = {
        **({} if launcher else {"--model-repository": str(model_repository)}),
        "--backend-directory": str(backend_directory()),
        "--http-address": "127.0.0.1",
        "--grpc-address": "127.0.0.1",
        "--metrics-address": "127.0.0.1",
        "--http-port": str(ports[0]),
        "--grpc-port": str(ports[1]),
        "--metrics-port": str(ports[2]),
        "--model-control-mode": "none",
        "--exit-on-error": "false",
        "--exit-timeout-secs": "5",
    }
    args = [f"{k}={v}" for k, v in defaults.items()
            if not any(a == k or a.startswith(k + "=") for a in extra)]
    cmd = ["env"]
    preloads = [preload] if isinstance(preload, (str, os.PathLike)) else list(preload or ())
    if env and env.get("LD_PRELOAD"):
        preloads.insert(0, env["LD_PRELOAD"])
    if preloads:
        cmd.append("LD_PRELOAD=" + ":".join(str(p) for p in preloads))
    if launcher:
        return [*cmd, f"TRITONSERVER={tritonserver_binary()}", f"TRITON_BACKENDS={backend_directory()}",
                str(launcher), *args, *extra]
    return [*cmd, str(tritonserver_binary()), *args, *extra]


@dataclass
class Server:
    process: subprocess.Popen
    command: list[str]
    log_path: Path
    http_port: int
    grpc_port: int
    metrics_port: int
    started_seconds: float = 0.0  # from Popen to live
    _final_log: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def client_url(self) -> str:
        """host:port, as tritonclient.http.InferenceServerClient wants it."""
        return f"127.0.0.1:{self.http_port}"

    def log(self) -> str:
        if self._final_log is not None:
            return self._final_log
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _request(self, method: str, path: str, body: bytes | None = None, timeout: float = 30):
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()

    def is_live(self) -> bool:
        try:
            return self._request("GET", "/v2/health/live", timeout=2)[0] == 200
        except (urllib.error.URLError, OSError):
            return False

    def models(self) -> list[dict]:
        """POST /v2/repository/index -> [{name, version, state, reason}], sorted by name;
        missing keys are ''."""
        _, raw = self._request("POST", "/v2/repository/index", b"{}")
        return sorted(({"name": m.get("name", ""), "version": m.get("version", ""),
                        "state": m.get("state", ""), "reason": m.get("reason", "")}
                       for m in json.loads(raw)), key=lambda m: (m["name"], m["version"]))

    def model(self, name: str) -> dict:
        """The index entry of one model (asserts that it is there)."""
        index = self.models()
        found = [m for m in index if m["name"] == name]
        assert found, f"no model {name!r} in the index: {index}\n{self.log()[-3000:]}"
        return found[0]

    def infer(self, model: str, inputs: Mapping[str, "object"], outputs: Sequence[str],
              timeout: float = 60) -> dict:
        """An inference through tritonclient.http (run in the server venv, where
        tritonclient is installed). inputs: name -> numpy array. Returns
        name -> numpy array."""
        import numpy as np

        payload = {"url": self.client_url, "model": model, "outputs": list(outputs),
                   "inputs": [{"name": k, "dtype": np.asarray(v).dtype.str,
                               "shape": list(np.asarray(v).shape),
                               "data": np.asarray(v).ravel().tolist()} for k, v in inputs.items()]}
        p = run_server_python(_CLIENT_CODE, timeout=timeout, input=json.dumps(payload))
        assert p.returncode == 0, (f"tritonclient infer of {model!r} failed (exit {p.returncode})\n"
                                   f"{p.stdout[-2000:]}{p.stderr[-3000:]}\n--- server log ---\n"
                                   f"{self.log()[-3000:]}")
        got = json.loads(p.stdout.strip().splitlines()[-1])
        return {k: np.asarray(v["data"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in got.items()}

    def exited(self) -> bool:
        """Whether the server has exited; does not reap it, so that its process
        group id stays reserved until stop() has ended the group."""
        if self.process.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.process.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def _wait_exited(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM to the server, SIGKILL to its process group (its own session:
        the server and the python backend stubs it started) after `timeout` s;
        then SIGKILL to what is left of that group, and reap. Returns the exit
        code as a shell shows it (SIGTERM'd server: 0; killed: 137)."""
        p = self.process
        if p.returncode is None:
            if not self.exited():
                p.terminate()
                if not self._wait_exited(timeout):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)
                    self._wait_exited(30)
            # the leader is a zombie until p.wait(): the group id is still ours
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(30)
        if self._final_log is None:
            self._final_log = self.log()
        return shell_returncode(p.returncode)

    @property
    def returncode(self) -> int | None:
        """None while running (or until stop() reaped it); else as a shell shows it."""
        return None if self.process.returncode is None else shell_returncode(self.process.returncode)


def _spawn(model_repository, *, extra_args, env, preload, ld_library_path, log_dir: Path, launcher=None):
    ports = _free_ports(3)
    cmd = _command(model_repository, ports, extra_args, preload, env, launcher)
    fd, name = tempfile.mkstemp(prefix="tritonserver-", suffix=".log", dir=log_dir)
    with os.fdopen(fd, "wb") as log:
        # a session of its own: stop() can end the server's stubs by its group id
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, env=_server_env(env, ld_library_path),
                                   start_new_session=True)
    return Server(process, cmd, Path(name), *ports)


@contextlib.contextmanager
def running_server(model_repository, *, extra_args: Sequence[str] = (),
                   env: Mapping[str, str] | None = None, preload=None,
                   ld_library_path: Sequence[str] = (), startup_timeout: float = 120,
                   stop_timeout: float = 30, launcher=None) -> Iterator[Server]:
    """Starts tritonserver on free 127.0.0.1 ports (http, grpc, metrics) with
    --model-control-mode=none, --exit-on-error=false and --exit-timeout-secs=5
    (each overridable through extra_args), waits (at most startup_timeout s)
    until GET /v2/health/live answers 200 and yields the Server. In MODE_NONE
    every model has loaded or failed by then (Triton loads them before it opens
    its HTTP port).

    env: variables set over this process's environment (of which PYTHONPATH,
    PYTHONHOME, VIRTUAL_ENV and LD_PRELOAD are not passed on); an
    LD_LIBRARY_PATH in it, and ld_library_path before it, go ahead of the
    server's own library folders; an LD_PRELOAD in it joins `preload`.
    preload: a path or paths, set as LD_PRELOAD by `env` for the server alone
    (it reaches the server's children: the python backend stubs).
    Raises ServerExited (exit code and log tail) if the server exits before it
    is live, TimeoutError if it is not live in time. On leaving: stop().
    launcher: start through this launch script (see _command)."""
    with tempfile.TemporaryDirectory(prefix="opforge-tritonserver-") as log_dir:
        for attempt in range(3):
            server = _spawn(model_repository, extra_args=extra_args, env=env, preload=preload,
                            ld_library_path=ld_library_path, log_dir=Path(log_dir), launcher=launcher)
            t0 = time.monotonic()
            try:
                while not server.is_live():
                    if server.exited():
                        rc = server.stop()
                        if "Address already in use" in server.log() and attempt < 2:
                            break  # a port was taken between our pick and its bind
                        raise ServerExited(rc, server.log())
                    if time.monotonic() - t0 > startup_timeout:
                        raise TimeoutError(f"tritonserver not live after {startup_timeout} s\n"
                                           f"--- log tail ---\n{server.log()[-4000:]}")
                    time.sleep(0.1)
                else:
                    server.started_seconds = round(time.monotonic() - t0, 2)
                    yield server
                    return
            finally:
                server.stop(stop_timeout)


def start_and_wait_exit(model_repository, *, env: Mapping[str, str] | None = None,
                        timeout: float = 60, extra_args: Sequence[str] = (), preload=None,
                        ld_library_path: Sequence[str] = ()) -> tuple[int, str]:
    """Starts a server (as running_server does) that is expected to stop by
    itself, e.g. abort at start-up, and returns (returncode, log); returncode as
    a shell shows it: 134 for an abort (SIGABRT), 127 for a library the loader
    cannot find, 1 for --exit-on-error=true and a model that failed. If it is
    still running after `timeout` s it is stopped and TimeoutError raised."""
    with tempfile.TemporaryDirectory(prefix="opforge-tritonserver-") as log_dir:
        server = _spawn(model_repository, extra_args=extra_args, env=env, preload=preload,
                        ld_library_path=ld_library_path, log_dir=Path(log_dir))
        try:
            if not server._wait_exited(timeout):
                live = server.is_live()
                server.stop()
                raise TimeoutError(f"tritonserver still running after {timeout} s "
                                   f"({'live' if live else 'not live'})\n--- log tail ---\n"
                                   f"{server.log()[-4000:]}")
        finally:
            rc = server.stop()
        return rc, server.log()


# ---------------------------------------------------------------------------
# models for tests

PYTHON_DOUBLE_CONFIG = """name: "{name}"
backend: "python"
max_batch_size: 0
input [ {{ name: "x" data_type: TYPE_FP32 dims: [ -1 ] }} ]
output [ {{ name: "y" data_type: TYPE_FP32 dims: [ -1 ] }} ]
instance_group [ {{ kind: KIND_CPU count: 1 }} ]
"""

PYTHON_DOUBLE_MODEL = """import sys
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        print("opforge-stub-env", sys.executable, sys.prefix, np.__version__, flush=True)

    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "x").as_numpy()
            y = pb_utils.Tensor("y", (x * 2).astype(np.float32))
            responses.append(pb_utils.InferenceResponse([y]))
        return responses
"""


def write_python_double_model(repository, name: str = "double") -> Path:
    """<repository>/<name>/{config.pbtxt, 1/model.py}: a python-backend model,
    FP32 x[-1] -> y = x * 2. Its initialize() prints a line starting with
    'opforge-stub-env' (the stub's sys.executable, sys.prefix, numpy version)."""
    folder = Path(repository) / name
    (folder / "1").mkdir(parents=True, exist_ok=True)
    (folder / "config.pbtxt").write_text(PYTHON_DOUBLE_CONFIG.format(name=name))
    (folder / "1" / "model.py").write_text(PYTHON_DOUBLE_MODEL)
    return folder

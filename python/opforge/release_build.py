"""`opforge build`: the op libraries for one Triton release, with proof.

Every library is built against the release's framework version (by a
toolchain, see toolchains.py), then checked: exports, glibc / libstdc++
symbol versions against the release's Ubuntu base, the CUDA runtime major,
the C++ ABI and symbol resolution for PyTorch, and a numerical run of every
op case in the release's framework. The manifest records exactly which
checks ran. The output folder is replaced only when everything built and
every check passed; a failed or interrupted build leaves it as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import artifacts, cases, elf, releases, toolchains
from .toolchains import SDK

FRAMEWORK_ORDER = ("onnxruntime", "tensorflow", "torch", "tensorrt")
EXPORTS = {"onnxruntime": {"RegisterCustomOps"}, "torch": set(), "tensorflow": set(), "tensorrt": set()}
PACKAGE = Path(__file__).resolve().parent


class BuildFailed(RuntimeError):
    """A library failed to build or a check failed; nothing was written."""


@dataclass
class Check:
    name: str
    passed: bool | None  # None: did not run
    detail: str

    def as_dict(self):
        status = "not run" if self.passed is None else ("passed" if self.passed else "FAILED")
        return {"check": self.name, "result": status, "detail": self.detail}


@dataclass
class Cell:
    framework: str
    status: str = "not built"  # built | not built | failed
    reason: str = ""
    sdk: SDK | None = None
    library: Path | None = None
    build_info: dict = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    twin: dict | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed" and all(c.passed is not False for c in self.checks)


def default_source() -> Path:
    """The CMake project: the checkout this module runs from, else the copy
    installed with the package."""
    checkout = PACKAGE.parents[1]
    if (checkout / "CMakeLists.txt").is_file() and (checkout / "cpp").is_dir():
        return checkout
    return PACKAGE / "source"


def build_release(release_name: str, out: Path, *, ops: Path | None = None, namespace: str | None = None,
                  toolchain: str = "auto", sdks: dict[str, str] | None = None,
                  frameworks: list[str] | None = None, deploy_dir: str = "/opt/opforge",
                  source: Path | None = None, console=None) -> dict:
    console = console or _Console()
    release = releases.get_release(release_name)
    source = Path(source or default_source()).resolve()
    ops = Path(ops).resolve() if ops else source / "ops"
    if not (ops / "ops.cmake").is_file():
        raise ValueError(f"{ops} has no ops.cmake: an ops folder lists its op folders there (see README)")
    namespace = namespace or ("opforge" if ops == (source / "ops").resolve() else _namespace_from(ops))
    chosen = toolchains.resolve(toolchain)
    wanted = frameworks or list(FRAMEWORK_ORDER)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    work = Path(tempfile.mkdtemp(prefix="opforge-build-"))
    tc = _toolchain(chosen, release, console, shared=[source, ops, work, PACKAGE])
    console.rule(f"Triton {release.name}: {', '.join(wanted)} via the {chosen} toolchain")
    try:
        cells = []
        for fw in wanted:
            with console.status(f"{fw}: preparing the SDK"):
                sdk = toolchains.path_sdk(fw, sdks[fw], release) if sdks and fw in sdks else tc.sdk(fw)
            cells.append(_cell(fw, sdk, release, source, ops, namespace, work, staging, console))
        manifest = _manifest(release, chosen, namespace, ops, cells, staging)
        console.table(manifest)
        failed = [c for c in cells if not c.ok]
        if failed:
            raise BuildFailed("; ".join(f"{c.framework}: {c.reason or _failed_checks(c)}" for c in failed)
                              + f". {out} was left as it was.")
        if not any(c.status == "built" for c in cells):
            raise BuildFailed(f"no library could be built for Triton {release.name}. {out} was left as it was.")
        artifacts.write_deploy_files(staging, manifest, deploy_dir)
        _replace(staging, out)
        console.print(f"wrote {out}")
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def _toolchain(name, release, console, shared):
    """`shared`: folders a container toolchain must see at the same paths."""
    if name == "pip":
        return toolchains.PipToolchain(release, log=console.print)
    if name == "host":
        return toolchains.HostToolchain(release)
    if name == "path":
        return _NoToolchain()
    from .container import ContainerToolchain

    return ContainerToolchain(release, log=console.print, shared=shared)


class _NoToolchain:
    def sdk(self, framework):
        return SDK(framework, False, reason=f"no --sdk {framework}=... given (the path toolchain uses only those)")


def _namespace_from(ops: Path) -> str:
    name = "".join(ch if ch.isalnum() else "_" for ch in ops.name.lower()).strip("_")
    return name if name[:1].isalpha() else f"ops_{name}"


def _failed_checks(cell: Cell) -> str:
    return "; ".join(f"{c.name} failed ({c.detail})" for c in cell.checks if c.passed is False)


def _cell(fw, sdk, release, source, ops, namespace, work, staging, console) -> Cell:
    cell = Cell(fw, sdk=sdk)
    if not sdk.available:
        cell.reason = sdk.reason
        console.print(f"[yellow]{fw}: not built[/yellow] — {sdk.reason}")
        return cell
    if sdk.cuda_args is not None:  # the toolchain brings its own CUDA (a container)
        cuda_args, cpu_only_why = sdk.cuda_args, ""
    else:
        cuda_args, _, cpu_only_why = toolchains.cuda_args(release)
    if fw == "tensorrt" and cpu_only_why:
        cell.reason = f"TensorRT plugins need CUDA kernels: {cpu_only_why}"
        console.print(f"[yellow]{fw}: not built[/yellow] — {cell.reason}")
        return cell
    args = [*sdk.cmake_args, *cuda_args]
    with console.status(f"{fw}: building against {sdk.version}"):
        info, lib_or_log = _cmake(source, work / f"build-{fw}", fw, ops, namespace, args, sdk.runner)
    report = info.get("frameworks", {}).get(fw, {}) if info else {}
    cell.build_info = {**report, "cuda_compiler": info.get("cuda_compiler") if info else None,
                       "cuda_architectures": info.get("cuda_architectures") if info else None,
                       "cpu_only_reason": cpu_only_why}
    if lib_or_log is None:
        cell.reason = report.get("reason", "skipped by the build")
        console.print(f"[yellow]{fw}: not built[/yellow] — {cell.reason}")
        return cell
    if isinstance(lib_or_log, str):
        cell.status, cell.reason = "failed", f"the build failed:\n{lib_or_log}"
        console.print(f"[red]{fw}: build failed[/red]\n{lib_or_log}")
        return cell
    cell.library = staging / lib_or_log.name
    shutil.copy2(lib_or_log, cell.library)
    cell.status = "built"
    with console.status(f"{fw}: checking {cell.library.name}"):
        cell.checks = _checks(cell, release, source, ops, namespace, work, args, console)
    mark = "[green]ok[/green]" if cell.ok else "[red]FAILED[/red]"
    console.print(f"{fw}: {cell.library.name} {mark} "
                  f"({sum(c.passed is True for c in cell.checks)} checks passed, "
                  f"{sum(c.passed is None for c in cell.checks)} not run)")
    return cell


def _cmake(source, build, fw, ops, namespace, args, runner=()):
    """Configure and build one framework's library: (build_info, library),
    (build_info, None) when the build skipped it, or (build_info, log tail)
    when CMake failed. The build runs even for a skipped library: a
    TensorRT folder of headers alone is compile-checked that way."""
    configure = [*runner, "cmake", "-S", str(source), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                 "-DCMAKE_SKIP_BUILD_RPATH=ON",  # shipped as built: no paths of this machine inside
                 f"-DOPFORGE_FRAMEWORKS={fw}", f"-DOPFORGE_OPS_DIR={ops}", f"-DOPFORGE_NAMESPACE={namespace}",
                 *args]
    if shutil.which("ninja") or runner:
        configure += ["-G", "Ninja"]
    log = []
    for cmd in (configure, [*runner, "cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        log.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            return _read_json(build / "build_info.json") or {}, "\n".join(log)[-4000:]
    info = _read_json(build / "build_info.json") or {}
    if info.get("frameworks", {}).get(fw, {}).get("status") != "BUILT":
        return info, None
    lib = build / f"lib{namespace}_{fw}.so"
    return info, lib if lib.is_file() else f"{lib} was not produced\n" + "\n".join(log)[-3000:]


def _read_json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _checks(cell, release, source, ops, namespace, work, args, console) -> list[Check]:
    lib, fw, sdk = cell.library, cell.framework, cell.sdk
    checks = []
    exported = elf.read(lib).exported
    checks.append(Check("exports", exported == EXPORTS[fw],
                        f"exports {sorted(exported) or 'nothing'}; expected {sorted(EXPORTS[fw]) or 'nothing'}"))
    checks += system_checks(lib, release)
    if fw == "torch":
        checks += _torch_checks(cell, release, source, ops, namespace, work, args)
    elif fw == "tensorrt":
        checks.append(Check("loads and computes", None, "TensorRT engines need TensorRT and a GPU: run "
                            "tests/test_tensorrt.py where both exist"))
    else:
        checks.append(_numeric(fw, lib, sdk, ops, namespace, f"in {fw} {sdk.version}"))
    return checks


def system_checks(lib: Path, release) -> list[Check]:
    """glibc and libstdc++ symbol versions within the release's Ubuntu base;
    no CUDA runtime of another major than the release's."""
    checks = []
    for prefix, field_ in (("GLIBC", "glibc"), ("GLIBCXX", "glibcxx")):
        need, have = elf.highest_version(lib, prefix), release.version(field_)
        if have is None:
            checks.append(Check(f"{field_} version", None, f"Triton {release.name}'s {field_} is unknown"))
        else:
            checks.append(Check(f"{field_} version", need is None or need <= have,
                                f"needs {prefix}_{need or '(none)'}; Ubuntu {release.ubuntu} has {prefix}_{have}"))
    majors = elf.cudart_majors(lib)
    cuda = release.version("cuda")
    if not majors:
        checks.append(Check("CUDA runtime", True, "CPU-only: links no libcudart"))
    else:
        checks.append(Check("CUDA runtime", cuda is not None and set(majors) == {cuda.major},
                            f"links libcudart.so.{majors}; Triton {release.name} has CUDA {cuda}"))
    return checks


def abi_check(lib: Path, release) -> Check:
    """The torch library uses the string ABI of the release's libtorch."""
    want, got = release.pytorch.cxx11_abi, elf.cxx11_abi(lib)
    name = lambda abi: {True: "C++11", False: "pre-C++11", None: "no std::string (undetermined)"}[abi]
    return Check("C++ ABI", got == want,
                 f"library uses the {name(got)} string ABI; Triton {release.name}'s libtorch uses the {name(want)} ABI")


def _torch_checks(cell, release, source, ops, namespace, work, args) -> list[Check]:
    lib, sdk = cell.library, cell.sdk
    want = release.pytorch.cxx11_abi
    checks = [abi_check(lib, release)]
    needed = elf.read(lib).needed
    checks.append(Check("no libpython", not any(n.startswith(("libpython", "libtorch_python")) for n in needed),
                        f"needs {', '.join(needed)}"))
    if sdk.libraries:
        missing = elf.unresolved_against(lib, sdk.libraries)
        how = "after normalising the std::string ABI" if sdk.cxx11_abi != want else "same ABI"
        checks.append(Check("torch symbols", not missing,
                            f"every libtorch/c10 symbol the library uses is defined in torch {sdk.version}'s "
                            f"libtorch_cpu/libc10 ({how})" if not missing else
                            f"{len(missing)} undefined in torch {sdk.version}: {'; '.join(missing[:5])}"))
    if sdk.twin_cmake_args is None:  # same ABI: the shipped library itself runs here
        checks.append(_numeric("torch", lib, sdk, ops, namespace, f"in torch {sdk.version}"))
        return checks
    # The shipped library cannot load in this torch (other ABI): a twin with its ABI does.
    twin_args = [*sdk.twin_cmake_args, *[a for a in args if not a.startswith("-DOPFORGE_TORCH_")]]
    _, twin = _cmake(source, work / "build-torch-twin", "torch", ops, namespace, twin_args, sdk.runner)
    if not isinstance(twin, Path):
        checks.append(Check("twin loads and computes", False, f"the twin did not build: {twin}"))
        return checks
    check = _numeric("torch", twin, sdk, ops, namespace,
                     f"twin built from the same sources with torch {sdk.version}'s own ABI "
                     f"(_GLIBCXX_USE_CXX11_ABI={int(sdk.cxx11_abi)}), loaded in torch {sdk.version}")
    check.name = "twin loads and computes"
    cell.twin = {"cxx11_abi": sdk.cxx11_abi, "sha256": _sha256(twin), "shipped": False}
    checks.append(check)
    return checks


def _numeric(fw, lib, sdk, ops, namespace, where) -> Check:
    if not sdk.python:
        return Check("loads and computes", None, f"no interpreter with {fw} to load it in")
    proc = subprocess.run([*sdk.runner, sdk.python, str(PACKAGE / "cases.py"), fw, str(lib), str(ops), namespace],
                          capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    if proc.returncode != 0:
        return Check("loads and computes", False, f"{where}: exited {proc.returncode}: "
                     f"{(proc.stderr or proc.stdout).strip()[-800:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    n = sum(o["cases"] for o in summary["ops"].values())
    failures = [f for o in summary["ops"].values() for f in o["failures"]]
    unchecked = [op for op, o in summary["ops"].items() if o["cases"] == 0]
    detail = f"{n} cases of {len(summary['ops'])} ops vs numpy references, {where} ({summary['version']})"
    if unchecked:
        detail += f"; no reference for {', '.join(unchecked)}"
    return Check("loads and computes", not failures and n > 0,
                 detail if not failures else f"{detail}: {len(failures)} failed: {'; '.join(failures[:3])}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(release, toolchain, namespace, ops, cells, staging) -> dict:
    libs = []
    for c in cells:
        entry = {"framework": c.framework, "status": c.status}
        if c.status != "built":
            entry["reason"] = c.reason
        if c.sdk and c.sdk.available:
            entry["built_against"] = f"{c.framework} {c.sdk.version}"
            entry["match"] = c.sdk.match
        if c.status == "built":
            bi = c.build_info
            entry.update({
                "library": c.library.name,
                "sha256": _sha256(c.library),
                "cxx11_abi": bi.get("cxx11_abi"),
                "device": f"CUDA {bi['cuda']} ({bi.get('cuda_architectures')})" if bi.get("cuda") else
                          f"CPU-only ({bi.get('cpu_only_reason') or 'the framework build here has no CUDA'})",
                "build": bi.get("reason"),
                "checks": [k.as_dict() for k in c.checks],
            })
            if c.twin:
                entry["twin"] = c.twin
        libs.append(entry)
    r = release
    return {
        "release": {"name": r.name, "server": r.server, "cuda": r.cuda, "tensorrt": r.tensorrt,
                    "pytorch": r.pytorch.ngc, "pytorch_cxx11_abi": r.pytorch.cxx11_abi, "tensorflow": r.tensorflow,
                    "onnxruntime": r.onnxruntime, "ubuntu": r.ubuntu, "glibc": r.glibc, "glibcxx": r.glibcxx},
        "toolchain": toolchain,
        "namespace": namespace,
        "ops": list(cases.op_dirs(ops)),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "libraries": libs,
    }


def _replace(staging: Path, out: Path) -> None:
    """Swap the finished folder in; the previous one survives until then."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
    staging.rename(out)
    if old:
        shutil.rmtree(old, ignore_errors=True)


class _Console:
    """Progress on stderr and the summary table, through rich."""

    def __init__(self):
        self._rich = Console(stderr=True)

    def print(self, text):
        self._rich.print(text, highlight=False)

    def rule(self, text):
        self._rich.rule(text)

    def status(self, text):
        return self._rich.status(text)

    def table(self, manifest):
        t = Table(title=f"Triton {manifest['release']['name']} ({manifest['toolchain']} toolchain)")
        for h in ("framework", "status", "built against", "device", "checks / reason"):
            t.add_column(h, overflow="fold")
        for c in manifest["libraries"]:
            checks = c.get("checks", [])
            passed = sum(k["result"] == "passed" for k in checks)
            failed = [k["check"] for k in checks if k["result"] == "FAILED"]
            summary = (f"{passed}/{len(checks)} passed" + (f", FAILED: {', '.join(failed)}" if failed else "")
                       if checks else c.get("reason", "")[:90])
            t.add_row(c["framework"], c["status"], c.get("built_against", "-"),
                      c.get("device", "-").split(" (")[0], summary)
        self._rich.print(t)

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
import re
import shutil
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__, artifacts, cases, cxx_toolchain, elf, files, ops_folder, releases, toolchains
from ._library import library_file
from .deploy import SPLIT_BY_THE_SERVER
from .processes import ended
from .release_checks import Check, abi_check, cuda_checks, expected_exports, system_checks
from .toolchains import SDK

FRAMEWORK_ORDER = ("onnxruntime", "tensorflow", "torch", "tensorrt")
PACKAGE = Path(__file__).resolve().parent
BUILD_FILES = ("CMakeLists.txt", "cpp", "docker")  # of the CMake project (default_source), and the container recipes


class BuildFailed(RuntimeError):
    """A library failed to build or a check failed; nothing was written."""


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
    schemas: list[str] | None = None  # torch: the ops' schemas as the release's torch registered them
    cuda: toolchains.CudaSetup | None = None
    cxx: cxx_toolchain.CxxToolchain | None = None  # the release's older C++ toolchain, when one is used

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
                  source: Path | None = None, console=None, cuda: str | None = None) -> dict:
    console = console or _Console()
    release = releases.get_release(release_name)
    source = Path(source or default_source()).resolve()
    ops = Path(ops).resolve() if ops else source / "ops"
    op_names = ops_folder.check(ops)  # one line per problem, before anything is built (a ValueError)
    with_cuda = ops_folder.cuda_ops(ops)
    try:
        sources = built_from(source, ops)  # before the build: an edit made during it then shows
    except OSError as e:
        raise ValueError(f"{e.filename or ops}: cannot be read ({e.strerror or e}); the manifest records a "
                         "sha256 of every source") from None
    own_ops = ops == (source / "ops").resolve()
    named_by = ("--namespace" if namespace else "opforge's own ops" if own_ops
                else f"from the folder name {ops.name!r}; --namespace NAME chooses another")
    namespace = namespace or ("opforge" if own_ops else ops_folder.default_namespace(ops))
    problem = ops_folder.namespace_problem(namespace)
    if problem:
        raise ValueError(f"--namespace: {problem}")
    if not deploy_dir.startswith("/") or SPLIT_BY_THE_SERVER.search(deploy_dir):
        raise ValueError(f"--deploy-dir {deploy_dir!r}: an absolute path without spaces, ':', ';' or ',' "
                         "(the server splits preload paths at them)")
    given = {fw: toolchains.path_sdk(fw, path, release) for fw, path in (sdks or {}).items()}
    for sdk in given.values():  # asked for by name: not there is an error, not a skipped framework
        if not sdk.available:
            raise ValueError(sdk.reason)
    chosen = toolchains.resolve(toolchain)
    wanted = frameworks or list(FRAMEWORK_ORDER)
    out = Path(out).resolve()
    if out.exists() and not _replaceable(out):
        raise ValueError(f"--out {out} is not a release folder of `opforge build` (no manifest.json), and a "
                         "successful build replaces it whole: give a new or empty folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as e:
        raise ValueError(f"--out {out}: cannot write beside it ({e.strerror or e})") from e
    work = Path(tempfile.mkdtemp(prefix="opforge-build-"))
    tc = _toolchain(chosen, release, console, shared=[source, ops, work, PACKAGE])
    console.rule(f"Triton {release.name}: {', '.join(wanted)} via the {chosen} toolchain")
    # what models call the ops by (README.md of the release folder: "Op names")
    console.print(f"ops {', '.join(op_names)} in namespace {namespace} ({named_by})")
    try:
        cxx = None
        if cxx_toolchain.needed_for(release.version("glibc")) and chosen != "container":
            with console.status(f"glibc {release.glibc}: provisioning a C++ toolchain for Ubuntu {release.ubuntu}"):
                try:
                    cxx = cxx_toolchain.provision(log=console.print)
                except cxx_toolchain.CxxError as e:  # the glibc checks then say what it costs
                    console.print((f"{e}; building with this machine's compiler", "yellow"))
        if cxx:
            console.print(f"C++: {cxx.as_dict()['compiler']} ({cxx.source})")
        if not with_cuda:  # nothing for a toolkit to compile
            host_cuda = toolchains.CudaSetup(["-DOPFORGE_CUDA=OFF"], cpu_only_reason="no op has a CUDA kernel")
        else:
            with console.status(f"CUDA {release.cuda}: finding or provisioning a toolkit"):
                host_cuda = toolchains.cuda_setup(release, cuda, log=console.print)
        if host_cuda.toolkit:
            console.print(f"CUDA kernels: CUDA {host_cuda.toolkit.version} ({host_cuda.toolkit.source}), "
                          f"architectures {host_cuda.architectures}")
        else:
            console.print(("CPU-only libraries", "yellow"), f" — {host_cuda.cpu_only_reason}")
        cells = []
        for fw in wanted:
            with console.status(f"{fw}: preparing the SDK"):
                sdk = given[fw] if fw in given else tc.sdk(fw)
            # a container toolchain brings its own CUDA
            setup = toolchains.CudaSetup(sdk.cuda_args) if sdk.cuda_args is not None and with_cuda else host_cuda
            cell = _cell(fw, sdk, release, source, ops, namespace, work, staging, console, setup, cxx)
            cells.append(cell)
        selftest = _selftest(release, source, ops, namespace, work, staging, host_cuda, cxx, console)
        manifest = _manifest(release, chosen, namespace, ops, with_cuda, cells, staging, host_cuda)
        manifest["sources"] = sources
        manifest["selftest"] = selftest
        console.table(manifest)
        failed = [c for c in cells if not c.ok]
        problems = [f"{c.framework}: {c.reason or _failed_checks(c)}" for c in failed]
        if selftest["status"] == "failed" or any(k["result"] == "FAILED" for k in selftest.get("checks", [])):
            problems.append(f"selftest: {selftest.get('reason') or 'a check failed'}")
        if problems:
            raise BuildFailed("; ".join(problems) + f". {out} was left as it was.")
        if not any(c.status == "built" for c in cells):
            why = "; ".join(f"{c.framework}: {c.reason}" for c in cells if c.reason)
            raise BuildFailed(f"no library could be built for Triton {release.name} ({why}). {out} was left as it was.")
        artifacts.write_deploy_files(staging, manifest, deploy_dir)
        os.chmod(staging, 0o777 & ~files.umask())  # mkdtemp's 0700: the server's user reads these
        dropped = _dropped(out, manifest)
        _replace(staging, out)
        console.print(f"wrote {out}")
        for fw in dropped:  # the folder is replaced whole: say what it lost, and why
            cell = next((c for c in cells if c.framework == fw), None)
            why = f"not built this time: {cell.reason}" if cell else "not in --frameworks"
            console.print((f"{out} no longer holds the {fw} library of an earlier build ({why})", "yellow"))
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


def first_error(log: str) -> str:
    """The line of a CMake or compiler log that says what went wrong first."""
    lines = [line.strip() for line in log.splitlines()]
    for i, line in enumerate(lines):
        if line.startswith("CMake Error"):
            detail = next((x for x in lines[i + 1:] if x), "")
            return f"{line} {detail}".strip()
        # docker's own failure ("docker: Cannot connect...", "docker: Error response from daemon: ...")
        # comes before its generic "Run 'docker run --help' for more information".
        if re.search(r"\berror\b[:]|undefined reference|fatal error", line) or line.startswith("docker: "):
            return line
    return next((line for line in reversed(lines) if line), "no output")


def _failed_checks(cell: Cell) -> str:
    return "; ".join(f"{c.name} failed ({c.detail})" for c in cell.checks if c.passed is False)


def _cell(fw, sdk, release, source, ops, namespace, work, staging, console, cuda, cxx=None) -> Cell:
    cell = Cell(fw, sdk=sdk, cuda=cuda, cxx=cxx if sdk.cuda_args is None else None)
    if not sdk.available:
        cell.reason = sdk.reason
        if sdk.failed:
            cell.status = "failed"
            console.print((f"{fw}: failed", "red"), f" — {sdk.reason}")
        else:
            console.print((f"{fw}: not built", "yellow"), f" — {sdk.reason}")
        return cell
    cpu_only_why = cuda.cpu_only_reason
    if fw == "tensorrt" and cpu_only_why:
        cell.reason = f"TensorRT plugins need CUDA kernels: {cpu_only_why}"
        console.print((f"{fw}: not built", "yellow"), f" — {cell.reason}")
        return cell
    args = [*sdk.cmake_args, *cuda.args, *(cell.cxx.cmake_args() if cell.cxx else [])]
    with console.status(f"{fw}: building against {sdk.version}"):
        info, lib_or_log = _cmake(source, work / f"build-{fw}", fw, ops, namespace, args, sdk.runner)
    report = info.get("frameworks", {}).get(fw, {}) if info else {}
    cell.build_info = {**report, "cuda_compiler": info.get("cuda_compiler") if info else None,
                       "cuda_architectures": info.get("cuda_architectures") if info else None,
                       "cpu_only_reason": cpu_only_why}
    if lib_or_log is None:
        cell.reason = report.get("reason", "skipped by the build")
        console.print((f"{fw}: not built", "yellow"), f" — {cell.reason}")
        return cell
    if isinstance(lib_or_log, str):
        cell.status, cell.reason = "failed", f"the build failed: {first_error(lib_or_log)}"
        console.print((f"{fw}: build failed", "red"), f"\n{lib_or_log}")
        return cell
    cell.library = staging / lib_or_log.name
    shutil.copy2(lib_or_log, cell.library)
    cell.status = "built"
    with console.status(f"{fw}: checking {cell.library.name}"):
        cell.checks = _checks(cell, release, source, ops, namespace, work, args, console)
    console.print(f"{fw}: {cell.library.name} ", ("ok", "green") if cell.ok else ("FAILED", "red"),
                  f" ({sum(c.passed is True for c in cell.checks)} checks passed, "
                  f"{sum(c.passed is None for c in cell.checks)} not run)")
    return cell


def _cmake(source, build, fw, ops, namespace, args, runner=(), target=None):
    """Configure and build one framework's library: (build_info, library),
    (build_info, None) when the build skipped it, or (build_info, log tail)
    when CMake failed. The build runs even for a skipped library: a
    TensorRT folder of headers alone is compile-checked that way.
    `target`: build only that target (fw "": no framework) and return its
    build_info and None, or the log tail."""
    configure = [*runner, "cmake", "-S", str(source), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                 "-DCMAKE_SKIP_BUILD_RPATH=ON",  # shipped as built: no paths of this machine inside
                 f"-DOPFORGE_FRAMEWORKS={fw}", f"-DOPFORGE_OPS_DIR={ops}", f"-DOPFORGE_NAMESPACE={namespace}",
                 *args]
    if shutil.which("ninja") or runner:
        configure += ["-G", "Ninja"]
    log = []
    build_cmd = [*runner, "cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)]
    for cmd in (configure, build_cmd + (["--target", target] if target else [])):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        log.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            return _read_json(build / "build_info.json") or {}, "\n".join(log)[-4000:]
    info = _read_json(build / "build_info.json") or {}
    if target:
        return info, None
    if info.get("frameworks", {}).get(fw, {}).get("status") != "BUILT":
        return info, None
    lib = build / library_file(namespace, fw)
    return info, lib if lib.is_file() else f"{lib} was not produced\n" + "\n".join(log)[-3000:]


def _selftest(release, source, ops, namespace, work, staging, cuda, cxx, console) -> dict:
    """<namespace>_selftest, built with the libraries' toolkit and kernel
    sources, into the release folder; a manifest entry."""
    if cuda.toolkit is None:
        return {"status": "not built", "reason": f"no CUDA kernels: {cuda.cpu_only_reason}"}
    name = f"{namespace}_selftest"
    with console.status("selftest: building"):
        args = [*cuda.args, *(cxx.cmake_args() if cxx else []), "-DOPFORGE_SELFTEST=ON"]
        info, log = _cmake(source, work / "build-selftest", "", ops, namespace, args, target="opforge_selftest")
    report = (info or {}).get("selftest", "")
    if report.startswith("not built"):  # an op without selftest sources: say so, ship the rest
        console.print((f"selftest: {report}", "yellow"))
        return {"status": "not built", "reason": report.removeprefix("not built: ")}
    if log is not None:
        console.print(("selftest: build failed", "red"), f"\n{log}")
        return {"status": "failed", "reason": f"the build failed: {first_error(log)}"}
    exe = staging / name
    shutil.copy2(work / "build-selftest" / name, exe)
    checks = [c for c in system_checks(exe, release) if c.name != "CUDA runtime"]
    checks.append(_selftest_here(exe))
    ok = all(c.passed is not False for c in checks)
    console.print(f"selftest: {name} ", ("ok", "green") if ok else ("FAILED", "red"), f" ({checks[-1].detail})")
    return {"status": "built", "file": name, "sha256": _sha256(exe), "cuda_toolkit": cuda.toolkit.as_dict(),
            "cuda_runtime": "static (needs only a driver)", "checks": [c.as_dict() for c in checks]}


def _selftest_here(exe: Path) -> Check:
    """Run it on this machine: exit 2 (no GPU) is a check that could not run."""
    proc = subprocess.run([str(exe), "--no-huge", "--no-bandwidth"], capture_output=True, text=True, timeout=1800)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 2:
        return Check("GPU self-test", None, f"not run here: {lines[0] if lines else proc.stderr.strip()}")
    return Check("GPU self-test", proc.returncode == 0, lines[-1] if proc.returncode in (0, 1) and lines
                 else f"{ended(proc.returncode)}: {(proc.stderr or proc.stdout).strip()[-500:]}")


def _read_json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _checks(cell, release, source, ops, namespace, work, args, console) -> list[Check]:
    lib, fw, sdk = cell.library, cell.framework, cell.sdk
    checks = []
    exported, expected = elf.read(lib).exported, expected_exports(fw, cell.build_info.get("version", ""))
    checks.append(Check("exports", exported == expected,
                        f"exports {sorted(exported) or 'nothing'}; expected {sorted(expected) or 'nothing'}"))
    checks += system_checks(lib, release)
    checks += cuda_checks(lib, cell.cuda)
    if fw == "torch":
        checks += _torch_checks(cell, release, source, ops, namespace, work, args)
    elif fw == "tensorrt":
        checks.append(Check("loads and computes", None, "TensorRT engines need TensorRT and a GPU: run "
                            "tests/test_tensorrt.py where both exist"))
    else:
        if fw == "onnxruntime" and cell.cxx:
            checks.append(_load_check(cell, lib, []))
        checks += _numeric(cell, lib, ops, namespace, f"in {fw} {{version}}")
    return checks


def _load_check(cell, lib: Path, library_dirs: list[Path], name="loads under the release's glibc") -> Check:
    """dlopen under the release's own glibc and libstdc++, through their loader."""
    dirs = [*library_dirs, *([cell.cuda.libcudart_dir] if cell.cuda and cell.cuda.libcudart_dir else [])]
    try:
        ok, said = cell.cxx.load([lib], dirs)
    except (cxx_toolchain.CxxError, OSError, subprocess.TimeoutExpired) as e:
        return Check(name, None, f"not run: {e}")
    return Check(name, ok, f"dlopen(RTLD_NOW) by glibc {cell.cxx.glibc}'s own loader and libraries "
                           f"(Debian bullseye): {said}")


def _torch_checks(cell, release, source, ops, namespace, work, args) -> list[Check]:
    lib, sdk = cell.library, cell.sdk
    want = release.pytorch.cxx11_abi
    checks = [abi_check(lib, release)]
    needed = elf.read(lib).needed
    checks.append(Check("no libpython", not any(n.startswith(("libpython", "libtorch_python")) for n in needed),
                        f"needs {', '.join(needed)}"))
    if sdk.libraries:
        try:
            missing = elf.unresolved_against(lib, sdk.libraries)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
            checks.append(Check("torch symbols", None, f"not run: {e}"))
        else:
            how = "after normalising the std::string ABI" if sdk.cxx11_abi != want else "same ABI"
            checks.append(Check("torch symbols", not missing,
                                f"every libtorch/c10 symbol the library uses is defined in torch {sdk.version}'s "
                                f"libtorch_cpu/libc10 ({how})" if not missing else
                                f"{len(missing)} undefined in torch {sdk.version}: {'; '.join(missing[:5])}"))
    if sdk.twin_cmake_args is None:  # same ABI: the shipped library itself runs here
        if cell.cxx:
            checks.append(_load_check(cell, lib, [Path(sdk.libraries[0]).parent]))
        checks += _numeric(cell, lib, ops, namespace, f"in torch {sdk.version}")
        return checks
    # The shipped library cannot load in this torch (other ABI): a twin with its ABI does.
    twin_args = [*sdk.twin_cmake_args, *[a for a in args if not a.startswith("-DOPFORGE_TORCH_")]]
    _, twin = _cmake(source, work / "build-torch-twin", "torch", ops, namespace, twin_args, sdk.runner)
    if not isinstance(twin, Path):
        checks.append(Check("twin loads and computes", False, f"the twin did not build: {twin}"))
        return checks
    twin_checks = _numeric(cell, twin, ops, namespace,
                           f"twin built from the same sources with torch {sdk.version}'s own ABI "
                           f"(_GLIBCXX_USE_CXX11_ABI={int(sdk.cxx11_abi)}), loaded in torch {sdk.version}")
    if cell.cxx:  # the shipped library needs the release's libtorch (other ABI); its twin loads here
        twin_checks.insert(0, _load_check(cell, twin, [Path(sdk.libraries[0]).parent], "loads under the release's glibc"))
    for check in twin_checks:
        check.name = f"twin {check.name}"
    cell.twin = {"cxx11_abi": sdk.cxx11_abi, "sha256": _sha256(twin), "shipped": False}
    return checks + twin_checks


def _numeric(cell, lib, ops, namespace, where) -> list[Check]:
    """Every op case in the framework, and (torch, TensorFlow) the devices
    each op has kernels for once the library is loaded; (torch) the ops'
    schemas go to cell.schemas."""
    fw, sdk, cuda = cell.framework, cell.sdk, cell.cuda
    if not sdk.python:
        return [Check("loads and computes", None, f"no interpreter with {fw} to load it in")]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if cuda is not None and cuda.libcudart_dir is not None:  # the release's libcudart, which the stand-ins lack
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(cuda.libcudart_dir),
                                                              os.environ.get("LD_LIBRARY_PATH")]))
    proc = subprocess.run([*sdk.runner, sdk.python, str(PACKAGE / "cases.py"), fw, str(lib), str(ops), namespace],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        where = where.replace(" {version}", "")  # the runtime said none: cases.py reports it with its result
        return [Check("loads and computes", False, f"{where}: {_cases_ended(proc)}")]
    try:
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return [Check("loads and computes", False, f"{where}: no result from the cases "
                      f"({(proc.stderr or proc.stdout).strip()[-800:] or 'no output'})")]
    n = sum(o["cases"] for o in summary["ops"].values())
    failures = [f for o in summary["ops"].values() for f in o["failures"]]
    unchecked = [op for op, o in summary["ops"].items() if o["cases"] == 0 and not o["failures"]]
    # `where` names the runtime's version itself ("{version}") or gets it appended
    where = where.format(version=summary["version"]) if "{version}" in where else f"{where} ({summary['version']})"
    detail = f"{n} cases of {len(summary['ops'])} ops vs numpy references, {where}"
    if unchecked:  # an op its cases() never reached is not known to compute: not a pass
        detail += f"; no case ran for {', '.join(unchecked)} (its reference.py's cases() gave none here)"
    checks = [Check("loads and computes", not failures and n > 0 and not unchecked,
                    detail if not failures else f"{detail}: {len(failures)} failed: {'; '.join(failures[:3])}")]
    cell.schemas = summary.get("schemas", cell.schemas)
    if summary.get("kernels") is not None:
        checks.append(_kernels_check(fw, summary["kernels"], lib, summary["version"], ops_folder.cuda_ops(ops)))
    return checks


def _cases_ended(proc) -> str:
    """How a cases.py run that failed ended: a signal is a crash, which would
    take tritonserver down with it; where it happened, as far as its output
    tells (the case it last started, or after its summary: at exit)."""
    lines = proc.stderr.strip().splitlines()
    started = [line.removeprefix(cases.RUNNING) for line in lines if line.startswith(cases.RUNNING)]
    said = "\n".join(line for line in lines if not line.startswith(cases.RUNNING)).strip()[-800:]
    try:
        json.loads(proc.stdout.strip().splitlines()[-1])
        at = " after its cases ran, at exit"  # the summary is its last word
    except (IndexError, ValueError):
        at = f" in case {started[-1]}" if started else ""
        said = said or proc.stdout.strip()[-800:]
    how = ended(proc.returncode) + at + (", which would take tritonserver down" if proc.returncode < 0 else "")
    return f"{how}: {said}" if said else how


def _kernels_check(fw, kernels: dict, lib: Path, version: str, with_cuda: list[str]) -> Check:
    """Every op has a kernel for every device the library was built for (the
    GPU only where the op has a CUDA kernel), and none for a device it lacks."""
    gpu = bool(elf.cudart_majors(lib))
    every, device = {"torch": (["CPU", "CUDA", "Meta"], "CUDA"), "tensorflow": (["CPU", "GPU"], "GPU")}[fw]
    want = {op: [d for d in every if d != device or (gpu and op in with_cuda)] for op in kernels}
    wrong = {op: [f"no {d} kernel" for d in want[op] if d not in have] +
                 [f"a {d} kernel but no CUDA kernel behind it" for d in have if d not in want[op]]
             for op, have in kernels.items()}
    wrong = {op: w for op, w in wrong.items() if w}
    where = f"registered in {fw} {version}"
    if wrong:
        listed = "; ".join(f"{op}: {', '.join(w)}" for op, w in wrong.items())
        return Check("kernels registered", False, f"{where}: {listed}")
    groups: dict[str, list[str]] = {}
    for op in kernels:
        groups.setdefault(", ".join(want[op]), []).append(op)
    detail = "; ".join(f"{devices} kernels for {', '.join(ops)}" for devices, ops in groups.items())
    return Check("kernels registered", bool(kernels), f"{detail}, {where}")


def built_from(source: Path, ops: Path, package: Path = PACKAGE) -> dict:
    """What a release folder was made from, to tell one of other sources:
    opforge (its version, and its Python modules and release matrix, which
    choose the toolchains and run the checks), the CMake project, the ops.
    Release folders inside the ops folder (`cd myops; opforge build --ops .`
    writes dist/ there) are outputs, not sources."""
    modules = tuple(sorted(p.name for p in package.iterdir() if p.suffix == ".py" or p.name == "releases.toml"))
    return {"opforge": __version__, "opforge_sha256": files.tree_sha256(package, only=modules),
            "build_files_sha256": files.tree_sha256(source, only=BUILD_FILES),
            "ops_sha256": files.tree_sha256(ops, leave_out=_is_release_folder)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(release, toolchain, namespace, ops, cuda_ops, cells, staging, cuda=None) -> dict:
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
            if bi.get("cuda") and c.cuda and c.cuda.toolkit:
                entry["cuda_toolkit"] = c.cuda.toolkit.as_dict()
            if c.cxx:
                entry["cxx_toolchain"] = c.cxx.as_dict()
            if c.twin:
                entry["twin"] = c.twin
            if c.schemas is not None:  # `opforge check` loads TorchScript models in the release's torch with them
                entry["schemas"] = c.schemas
        libs.append(entry)
    r = release
    return {
        "release": {"name": r.name, "server": r.server, "cuda": r.cuda, "tensorrt": r.tensorrt,
                    "pytorch": r.pytorch.ngc, "pytorch_cxx11_abi": r.pytorch.cxx11_abi, "tensorflow": r.tensorflow,
                    "onnxruntime": r.onnxruntime, "ubuntu": r.ubuntu, "glibc": r.glibc, "glibcxx": r.glibcxx},
        "toolchain": toolchain,
        "cuda_toolkit": cuda.toolkit.as_dict() if cuda and cuda.toolkit else
                        {"cpu_only_reason": cuda.cpu_only_reason if cuda else "no CUDA setup"},
        # the release's libcudart, which the libraries are checked and loaded against
        **({"cuda_runtime": cuda.runtime.as_dict() if cuda.runtime else {"missing": cuda.runtime_missing}}
           if cuda and cuda.toolkit else {}),
        "namespace": namespace,
        "ops": list(cases.op_dirs(ops)),
        "cuda_ops": cuda_ops,  # the others have CPU kernels alone, and no TensorRT plugin
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "libraries": libs,
    }


def _is_release_folder(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        return isinstance(manifest, dict) and "libraries" in manifest
    except (OSError, ValueError, TypeError):
        return False


def _replaceable(out: Path) -> bool:
    """An earlier release folder, or an empty folder: nothing else is ever deleted."""
    if not out.is_dir():
        return False
    return _is_release_folder(out) or not any(out.iterdir())


def _dropped(out: Path, manifest: dict) -> list[str]:
    """The frameworks whose libraries the earlier release folder `out` holds and this build lacks."""
    try:
        earlier = json.loads((out / "manifest.json").read_text())["libraries"]
        had = [c["framework"] for c in earlier if c.get("status") == "built" and isinstance(c.get("framework"), str)]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # none there, or not one to read
        return []
    built = {c["framework"] for c in manifest["libraries"] if c["status"] == "built"}
    return [fw for fw in dict.fromkeys(had) if fw not in built]


def _replace(staging: Path, out: Path) -> None:
    """Swap the finished folder in; the previous one survives until then."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    files.replace_folder(staging, out, keep=old)
    shutil.rmtree(old, ignore_errors=True)


class _Console:
    """Progress on stderr and the summary table, through rich."""

    def __init__(self):
        self._rich = Console(stderr=True)

    def print(self, *parts: str | tuple[str, str]):
        """Text and (text, style) parts, as written: a compiler's "[with T = float]", a path's "[/...]" and
        pip's "[extras]" are no markup."""
        self._rich.print(Text.assemble(*parts), highlight=False)

    def rule(self, text):
        self._rich.rule(Text(text))

    def status(self, text):
        return self._rich.status(Text(text))

    def table(self, manifest):
        t = Table(title=f"Triton {manifest['release']['name']} ({manifest['toolchain']} toolchain)")
        for h in ("framework", "status", "built against", "device", "checks / reason"):
            t.add_column(h, overflow="fold")
        for c in manifest["libraries"]:
            checks = c.get("checks", [])
            passed = sum(k["result"] == "passed" for k in checks)
            not_run = sum(k["result"] == "not run" for k in checks)
            failed = [k["check"] for k in checks if k["result"] == "FAILED"]
            summary = (f"{passed} passed" + (f", {not_run} not run" if not_run else "")
                       + (f", FAILED: {', '.join(failed)}" if failed else "")
                       # the whole reason was printed when it arose: here its start, cut between words
                       if checks else textwrap.shorten(c.get("reason", ""), 90, placeholder=" …"))
            t.add_row(c["framework"], c["status"], Text(c.get("built_against", "-")),
                      Text(c.get("device", "-").split(" (")[0]), Text(summary))
        self._rich.print(t)

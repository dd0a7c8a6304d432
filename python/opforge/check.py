"""`opforge check`: predict, before tritonserver starts, the failures a set
of custom-op libraries would cause in it: any library, not only opforge's.

What is looked at: the libraries named on the command line and those a
launch file preloads (the server-wide set), the libraries each model of a
model repository lists in model_operations, and what each model needs
(model_ops.py). Op names come from loading each library in its framework,
in a child process of its own (or, for an opforge release folder, from its
manifest).

| problem | what Triton does |
|---|---|
| one torch namespace in two preloaded libraries | aborts before main (exit 134): "Only a single TORCH_LIBRARY can be used to register the namespace" |
| one ONNX Runtime domain twice in one model | the model fails: "Domain already set in registry" |
| one TF op name in two libraries | TF silently keeps the first kernels; the second library's module lacks those ops |
| one TensorRT plugin name/version/namespace in two libraries | the second registration is refused |
| a strong global symbol defined by two preloaded libraries | the first one interposes on the second |
| a library on the PyTorch route that needs libpython | Triton's libtorch process has none: the preload fails |
| a TorchScript model whose namespace no preload provides | "Unknown builtin op: ns::op" |
| an ONNX / TF model whose op its model_operations do not provide | "ns:Op(-1) is not a registered function/op" |
| for a release: C++ ABI, GLIBC / GLIBCXX ceiling, libcudart major and functions | the library does not load there |
| for a release: an ONNX model's IR version or opset (ai.onnx, ai.onnx.ml) above what the release's ONNX Runtime reads | the model fails to load: "Unsupported model IR version" |
| for a release: a TensorFlow model's op that the release's TensorFlow does not register, a model_operations library it does not load, or a release without a TensorFlow backend; a server-wide TensorFlow preload it does not load | the model fails to load: "Op type not registered", "undefined symbol"; the preload ends the server: "symbol lookup error" |
| for a release: an ONNX model a session of the release's onnxruntime refuses with its model_operations (a library it does not load, a dtype no kernel takes) | the model fails to load: "Could not find an implementation for Clip(1) node" |
| for a release: a TorchScript model the release's torch does not load (an op it lacks, a custom op called against another schema) | the model fails to load: "Unknown builtin op: aten::rms_norm" |

The release is --release, else the one the opforge libraries examined were
built for (their manifests), when they name one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import cuda_toolkit, elf, files, model_ops, release_models, releases
from .cases import one_line
from .processes import last_words
from .release_checks import abi_check, runtime_symbols_check, system_checks


def _near(op: str, provided: set[str]) -> str:
    close = model_ops.nearest_op(op, provided)
    return f"; did you mean {close}?" if close else ""


@dataclass
class Lib:
    path: Path
    framework: str  # torch | tensorflow | onnxruntime | tensorrt | unknown
    names: set[str] = field(default_factory=set)  # torch: namespaces; TF, TRT: op/plugin names
    ops: set[str] = field(default_factory=set)  # op names as models need them (model_ops conventions)
    loaded: str = ""  # why the names could not be read, when they could not
    built_for: str = ""  # the Triton release its opforge manifest names, if any
    schemas: list[str] | None = None  # torch: its ops' schemas, where known
    other_file_in: str = ""  # the manifest naming it records another file (sha256): not used

    @property
    def label(self) -> str:
        return str(self.path)


def framework_of(path: Path) -> str:
    sym = elf.read(path)
    needed = " ".join(sym.needed)
    if re.search(r"libtorch(_cpu)?\.so|libc10\.so", needed):
        return "torch"
    if "libtensorflow_framework" in needed:
        return "tensorflow"
    if "libnvinfer" in needed or sym.exported & {"getPluginCreators", "getCreators"}:
        return "tensorrt"
    if "RegisterCustomOps" in sym.exported or "RegisterCustomOpsAltName" in sym.exported:
        return "onnxruntime"
    return "unknown"


_TORCH_NAMES = r"""
import json, sys, torch
before = set(torch._C._dispatch_get_all_op_names())
torch.ops.load_library(sys.argv[1])
new = sorted(set(torch._C._dispatch_get_all_op_names()) - before)
schemas = [str(s) for op in new for s in torch._C._jit_get_schemas_for_operator(op)]
print(json.dumps({"ops": new, "schemas": schemas}))
"""
_TRT_NAMES = r"""
import ctypes, json, sys
import tensorrt as trt
registry = trt.get_plugin_registry()
def creators():
    found = getattr(registry, "all_creators", None) or registry.plugin_creator_list
    return {(c.name, c.plugin_version, c.plugin_namespace) for c in found}
before = creators()
ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
print(json.dumps(sorted(f"{n}/{v}/{ns}" for n, v, ns in creators() - before)))
"""
_TF_NAMES = r"""
import json, sys
from tensorflow.python.client import pywrap_tf_session as py_tf
from tensorflow.core.framework import op_def_pb2
ops = op_def_pb2.OpList.FromString(py_tf.TF_GetOpList(py_tf.TF_LoadLibrary(sys.argv[1])))
print(json.dumps(sorted(op.name for op in ops.op)))
"""


def _child(code: str, *args: str) -> tuple[list | dict | None, str]:
    env = cuda_toolkit.with_cached_runtimes(dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                              timeout=300)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if proc.returncode != 0:
        return None, last_words(proc, "loading it here")
    return json.loads(proc.stdout.strip().splitlines()[-1]), ""


def describe(path: Path) -> Lib:
    """The library's framework and the names it registers."""
    path = Path(path)
    lib = Lib(path, framework_of(path))
    manifest, lib.other_file_in = _release_manifest(path)
    if manifest is not None and lib.framework in ("torch", "tensorflow", "onnxruntime", "tensorrt"):
        ops = manifest.get("cuda_ops", manifest["ops"]) if lib.framework == "tensorrt" else manifest["ops"]
        lib.ops = model_ops.op_names(lib.framework, manifest["namespace"], ops)
        lib.names = {manifest["namespace"]} if lib.framework == "torch" else set(lib.ops)
        release = manifest.get("release")
        name = release.get("name") if isinstance(release, dict) else None
        lib.built_for = name if isinstance(name, str) else ""
        if lib.framework == "torch":  # from an older opforge: none
            lib.schemas = next(c for c in manifest["libraries"] if c.get("library") == path.name).get("schemas")
        return lib
    if lib.framework == "torch":
        found, lib.loaded = _child(_TORCH_NAMES, str(path))
        if found is not None:
            lib.ops, lib.schemas = set(found["ops"]), found["schemas"]
            lib.names = {n.split("::")[0] for n in lib.ops}
    elif lib.framework == "tensorflow":
        names, lib.loaded = _child(_TF_NAMES, str(path))
        if names is not None:
            lib.names = lib.ops = set(names)
    elif lib.framework == "tensorrt" and _tensorrt_importable():
        names, lib.loaded = _child(_TRT_NAMES, str(path))  # name/version/namespace of each creator
        if names is not None:
            lib.names = set(names)
            lib.ops = {n.split("/")[0] for n in names}
    elif lib.framework == "onnxruntime":
        lib.loaded = "ONNX Runtime lists no custom-op library's ops: only an opforge manifest beside it names them"
    return lib


def _release_manifest(path: Path) -> tuple[dict | None, str]:
    """An opforge release folder's manifest, when `path` is one of its
    libraries; else None, and the manifest that names it but records another
    file (its sha256: copied over after the build or deploy), if any."""
    other, sha = "", None
    for m in [path.parent / "manifest.json", *sorted(path.parent.glob("opforge-manifest.*.json"))]:
        try:
            manifest = json.loads(m.read_text()) if m.is_file() else None
        except ValueError:
            manifest = None  # not one to trust: the library is then loaded to read its names
        if not isinstance(manifest, dict):
            continue
        entry = next((c for c in manifest.get("libraries", []) if c.get("library") == path.name), None)
        if entry is None:
            continue
        if entry.get("sha256") is not None and path.is_file():
            sha = sha or _sha(path)
            if entry["sha256"] != sha:
                other = other or str(m)
                continue
        return manifest, ""
    return None, other


def launch_preloads(launch: Path, mount_map: dict[str, Path]) -> tuple[list[Path], list[Path]]:
    """LD_PRELOAD entries and TensorRT plugins a launch file (a shell script
    or env file) hands tritonserver, as local paths."""
    # Commented lines (triton.env's opt-in TensorFlow preload) do not count.
    text = "\n".join(line for line in launch.read_text().splitlines() if not line.lstrip().startswith("#"))
    preloads, plugins = [], []
    for m in re.finditer(r"LD_PRELOAD=", text):
        preloads += [p for p in _literal_word(text, m.end()).split(":") if p]
    for m in re.finditer(r"--backend-config=tensorrt,plugins=", text):
        plugins += [p for p in _literal_word(text, m.end()).split(";") if p]
    local = lambda p: _local(p, mount_map)
    return [local(p) for p in preloads], [local(p) for p in plugins]


def _literal_word(text: str, i: int) -> str:
    """The shell word starting at text[i], unquoted, up to its end or its first
    expansion ($ outside single quotes: "${LD_PRELOAD:+...}" appends the
    caller's own). A quoted $ or ' is part of a path (deploy quotes with shlex)."""
    out, quote = [], None
    while i < len(text):
        c = text[i]
        if quote == "'":
            if c == "'":
                quote = None
            else:
                out.append(c)
        elif c == "$" or (quote is None and c.isspace()):
            break
        elif c == "\\" and i + 1 < len(text):
            i += 1
            out.append(text[i])
        elif c in "'\"" and quote is None:
            quote = c
        elif c == '"' and quote == '"':
            quote = None
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _local(path: str, mount_map: dict[str, Path]) -> Path:
    for mount, folder in mount_map.items():
        if path == mount or path.startswith(mount.rstrip("/") + "/"):
            return folder / path[len(mount.rstrip("/")) + 1:]
    return Path(path)


def _is_shared_library(path: Path, report: Report) -> bool:
    """Whether the file `path` is ELF the loader could map; a problem in `report` when not."""
    try:
        elf.read(path)
        return True
    except Exception as e:  # ELFError, ELFParseError, struct.error: not ELF, or truncated
        report.problems.append(f"{path}: not a shared library the loader can map ({one_line(e)})")
        return False


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ort_domain_clash(libs: list[Path]) -> str:
    """Register the libraries in one SessionOptions and make a session, as a
    model listing them would: ONNX Runtime's own verdict ("" if none)."""
    code = r"""
import sys, onnxruntime as ort
from onnx import TensorProto, helper
g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8
so = ort.SessionOptions()
for lib in sys.argv[1:]:
    so.register_custom_ops_library(lib)
try:
    ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    print('""')
except Exception as e:
    import json; print(json.dumps((str(e).splitlines() or [repr(e)])[0]))
"""
    verdict, why = _child(code, *map(str, libs))
    return verdict if why == "" else f"(not checked: {why})"


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # libraries whose names could not be read: unchecked


def run(libs: list[Path], launch: Path | None, repository: Path | None, release_name: str | None) -> Report:
    report = Report()
    mount_map: dict[str, Path] = {}
    if repository is not None:
        record = repository / "opforge-deploy.json"
        try:
            mount_map[json.loads(record.read_text())["mount"]] = repository
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no deploy record (or not one check can read): paths are taken as they are
        mount_map.setdefault(str(repository), repository)
    preloaded = [Path(p) for p in libs]
    plugins: list[Path] = []
    if launch is None and repository is not None and (repository / "opforge-tritonserver.sh").is_file():
        launch = repository / "opforge-tritonserver.sh"  # what `opforge deploy` wrote for this repository
        report.notes.append(f"launch file: {launch} (the one `opforge deploy` wrote; --launch names another)")
    if launch is not None:
        try:
            pre, plugins = launch_preloads(launch, mount_map)
            preloaded += pre
        except (OSError, UnicodeDecodeError) as e:
            report.problems.append(f"{launch}: not a launch file to read (a shell script or env file): "
                                   f"{type(e).__name__}: {e}")
    mappable = set()
    for p in dict.fromkeys([*preloaded, *plugins]):
        if not p.is_file():
            what = files.missing(p, "file", nothing="no such library")  # a library, not any file, was meant
            report.problems.append(f"{p}: {what} (named {'in ' + str(launch) if launch else 'here'})")
        elif _is_shared_library(p, report):
            mappable.add(p)
    # The loader maps one file once, however often or by whichever path it is named.
    preloaded = list(dict.fromkeys(p.resolve() for p in preloaded if p in mappable))
    plugins = [p.resolve() for p in plugins if p in mappable]
    described = {p: describe(p) for p in [*preloaded, *plugins]}

    server_wide = [described[p] for p in preloaded] + [described[p] for p in plugins if p not in preloaded]
    _clashes(server_wide, report)
    for lib in server_wide:
        if lib.framework == "torch":
            py = [n for n in elf.read(lib.path).needed if n.startswith(("libpython", "libtorch_python"))]
            if py:
                report.problems.append(f"{lib.label}: needs {', '.join(py)}, which Triton's libtorch process "
                                       "does not have (the preload fails)")
        if lib.loaded:
            report.notes.append(f"{lib.label}: op names not read ({lib.loaded})")
            report.unread.append(lib.label)
    if any(lib.framework == "tensorrt" for lib in server_wide) and not _tensorrt_importable():
        report.notes.append("TensorRT plugin names: not checked (tensorrt is not importable here)")

    models = _models(repository, mount_map, described, report) if repository is not None else []
    torch_ops = set().union(*[lib.ops for lib in server_wide if lib.framework == "torch"] or [set()])
    unread = [lib.label for lib in server_wide if lib.framework == "torch" and lib.loaded]
    for model, model_libs in models:
        fw = model_ops.FRAMEWORK_OF.get(model.backend)
        if model.backend == "pytorch" and unread and model.needs - torch_ops:
            report.notes.append(f"model {model.name}: needs not checked ({', '.join(unread)}: op names not read)")
        elif model.backend == "pytorch":
            for op in sorted(model.needs - torch_ops):
                report.problems.append(f"model {model.name}: needs {op}, which no preloaded library registers "
                                       f"(the model fails: Unknown builtin op: {op}){_near(op, torch_ops)}")
        elif model.backend in ("onnxruntime", "tensorflow"):
            provided = set().union(*[lib.ops for lib in model_libs if lib.framework == fw] or [set()])
            unread_here = [lib for lib in model_libs if lib.framework == fw and lib.loaded]
            if unread_here and model.needs - provided:
                why = "; ".join(f"{lib.label}: op names not read, {lib.loaded}" for lib in unread_here)
                report.notes.append(f"model {model.name}: needs not checked ({why})")
                report.unread += [lib.label for lib in unread_here if lib.label not in report.unread]
                continue
            for op in sorted(model.needs - provided):
                report.problems.append(
                    f"model {model.name}: needs {op}, which its model_operations do not provide (the model fails "
                    f"to load){_near(op, provided)}" if model.has_config else
                    f"model {model.name}: needs {op}, and has no config.pbtxt to list the library in (Triton "
                    "completes a config without model_operations)")

    # A relative op_library_filename is the server's loader's to find: not a file here.
    every_lib = {lib.path: lib for lib in [*server_wide, *[x for _, ls in models for x in ls]]
                 if lib.path.is_absolute()}.values()
    for lib in every_lib:
        if lib.other_file_in:
            report.notes.append(f"{lib.label}: not the file {lib.other_file_in} records (sha256 differs: replaced "
                                "after the build or deploy?), so it was read as it is, not as that manifest "
                                "describes it (deploy the release folder again to put its own file back)")
    built_for = sorted({lib.built_for for lib in every_lib if lib.built_for})
    if not release_name and built_for:
        unknown = [name for name in built_for if name not in releases.load_releases()]
        if len(built_for) == 1 and not unknown:
            release_name = built_for[0]
            report.notes.append(f"checked for Triton {release_name}, the release the opforge libraries here were "
                                "built for (--release names another)")
        else:
            report.notes.append(f"the opforge libraries here were built for Triton {' and '.join(built_for)}"
                                f"{' (unknown to this opforge: ' + ', '.join(unknown) + ')' if unknown else ''}: "
                                "not checked for a release (--release names the one the server runs)")
    if release_name:
        release = releases.get_release(release_name)
        cuda = release.version("cuda")
        runtime = cuda_toolkit.cached_runtime(cuda) if cuda else None
        for lib in every_lib:
            checks = system_checks(lib.path, release) + ([abi_check(lib.path, release)]
                                                         if lib.framework == "torch" else [])
            if cuda and elf.cudart_majors(lib.path) == [cuda.major]:
                if runtime:
                    checks.append(runtime_symbols_check(lib.path, runtime))
                else:
                    report.notes.append(f"{lib.label}: the libcudart functions it calls were not checked against "
                                        f"Triton {release.name}'s CUDA {cuda} runtime (`opforge build --release "
                                        f"{release.name}` fetches it)")
            hint = lib.built_for and lib.built_for != release.name
            for c in checks:
                if c.passed is False:
                    report.problems.append(f"{lib.label}: {c.name} for Triton {release.name}: {c.detail}" + (
                        f" (it was built for Triton {lib.built_for}: deploy a build of --release {release.name})"
                        if hint else ""))
                    hint = False  # once per library
            if hint:  # passed here, but built against another release's framework
                report.notes.append(_built_for_another(lib, release))
        onnx_models = [model for model, _ in models if model.onnx_stamps]
        reads = releases.onnx_reads(release.onnxruntime)
        for model in onnx_models if reads else []:
            report.problems += model_ops.too_new_for(model, reads, release.name)
        if onnx_models and not reads:
            report.notes.append(f"the ONNX IR version and opset of {', '.join(m.name for m in onnx_models)}: not "
                                f"checked (what ONNX Runtime {release.onnxruntime} reads was not measured: see "
                                "releases.toml)")
        release_models.tensorflow_models([(model, libs) for model, libs in models if model.backend == "tensorflow"],
                                         release, report.problems, report.notes, server_wide)
        release_models.onnx_models([(model, libs) for model, libs in models if model.backend == "onnxruntime"],
                                   release, report.problems, report.notes)
        release_models.torchscript_models([model for model, _ in models if model.backend == "pytorch"],
                                          [lib for lib in server_wide if lib.framework == "torch"], release,
                                          report.problems, report.notes)
    report.checked = [_count(len(server_wide), "server-wide library", "server-wide libraries"),
                      _count(len(models), "model", "models")]
    return report


def _built_for_another(lib: Lib, release: releases.Release) -> str:
    built = releases.load_releases().get(lib.built_for)
    if built is None:
        return (f"{lib.label}: built for Triton {lib.built_for}, not for {release.name}: it passes the checks here, "
                f"but only a build of --release {release.name} is made and tested against that release")
    fw = lib.framework  # releases.toml's field of the framework ("torch": NGC's PyTorch)
    return (f"{lib.label}: built for Triton {lib.built_for} ({fw} {built.get(fw)}), not for {release.name} ({fw} "
            f"{release.get(fw)}): it passes the checks here, but only a build of --release {release.name} is made "
            f"and tested against that {fw}")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _clashes(libs: list[Lib], report: Report) -> None:
    seen: dict[tuple[str, str], Lib] = {}
    for lib in libs:
        kinds = {"torch": "torch namespace", "tensorflow": "TensorFlow op", "tensorrt": "TensorRT plugin"}
        if lib.framework not in kinds:
            continue
        for name in sorted(lib.names):
            key = (lib.framework, name)
            if key in seen:  # two files (one file twice is loaded once)
                first = seen[key]
                what = {"torch": "the server aborts before main (Only a single TORCH_LIBRARY can be used to "
                                 "register the namespace)",
                        "tensorflow": "TensorFlow keeps the first library's kernels, silently",
                        "tensorrt": "the second registration is refused"}[lib.framework]
                report.problems.append(f"{kinds[lib.framework]} {name} is registered by both {first.label} and "
                                       f"{lib.label}: {what}")
            else:
                seen[key] = lib
    strong: dict[str, Lib] = {}
    for lib in libs:
        for sym in sorted(elf.strong_definitions(lib.path)):
            if sym in strong:
                report.problems.append(f"symbol {sym} is defined by both {strong[sym].label} and {lib.label}: "
                                       f"the first one loaded interposes on the other")
            else:
                strong[sym] = lib


def _models(repository: Path, mount_map, described: dict, report: Report):
    out = []
    models, errors = model_ops.read_configs(repository)
    report.problems += errors
    modelled = {m.folder for m in models}
    for folder in sorted(p for p in repository.iterdir() if p.is_dir() and p not in modelled
                         and not (p / "config.pbtxt").is_file()):
        report.problems.append(f"{folder}: Triton takes every folder of the repository (a hidden one too) for a "
                               "model, and this one has neither config.pbtxt nor a model file in a version folder "
                               "(the server fails to load it): move it out of the repository")
    libs_of = {}
    for model in models:
        named = list(model.config.model_operations.op_library_filename)
        paths = [_local(p, mount_map).resolve() for p in named if p.startswith("/")]
        # A relative name is found by the server's loader from its own working folder or library path.
        libs = [Lib(Path(p), model_ops.FRAMEWORK_OF.get(model.backend, "unknown"),
                    loaded="a relative path, which the server resolves from its own working folder or library "
                           "path") for p in named if not p.startswith("/")]
        for p in paths:
            if not p.is_file():
                report.problems.append(f"model {model.name}: model_operations names {p}, which does not exist")
                continue
            if not _is_shared_library(p, report):
                continue
            described.setdefault(p, describe(p))
            libs.append(described[p])
        libs_of[model.folder] = libs
    unreadable = model_ops.read_all_needs(models, [model_ops.Library(lib.framework, lib.path, frozenset(lib.ops))
                                                   for lib in described.values()])
    for model in models:
        if model.folder in unreadable:
            report.problems.append(f"{unreadable[model.folder]}: the server fails this model")
            continue
        libs = libs_of[model.folder]
        out.append((model, libs))
        ort = [lib for lib in libs if lib.framework == "onnxruntime"]
        if len(ort) > 1:
            same = [(a, b) for i, a in enumerate(ort) for b in ort[i + 1:]
                    if a.path == b.path or _sha(a.path) == _sha(b.path)]
            if same:
                a, b = same[0]
                report.problems.append(f"model {model.name}: lists {a.label} and {b.label}, one library twice: "
                                       "ONNX Runtime fails the model (Domain already set in registry)")
            else:
                verdict = _ort_domain_clash([lib.path for lib in ort])
                if verdict:
                    report.problems.append(f"model {model.name}: {', '.join(lib.label for lib in ort)} in one "
                                           f"session: {verdict}")
    return out


@functools.lru_cache(maxsize=1)
def _tensorrt_importable() -> bool:
    return subprocess.run([sys.executable, "-c", "import tensorrt"], capture_output=True).returncode == 0


def main(libs: list[str], launch: str | None, repository: str | None, release: str | None) -> int:
    if not libs and not launch and not repository:
        print("opforge check: name libraries, --launch FILE or --model-repository DIR", file=sys.stderr)
        return 2
    for given, what, kind in ((launch, "--launch", Path.is_file), (repository, "--model-repository", Path.is_dir)):
        if given and not kind(Path(given)):
            wanted = "file" if kind is Path.is_file else "folder"
            print(f"opforge check: {what} {given}: {files.missing(given, wanted)}", file=sys.stderr)
            return 2
    try:
        report = run([Path(p) for p in libs], Path(launch) if launch else None,
                     Path(repository).resolve() if repository else None, release)
    except releases.UnknownRelease as e:
        print(f"opforge check: {e}", file=sys.stderr)
        return 2
    for p in report.problems:
        print(p)
    for n in report.notes:
        print(f"note: {n}", file=sys.stderr)
    if report.problems:
        print(f"opforge check: {_count(len(report.problems), 'problem', 'problems')} ({', '.join(report.checked)})",
              file=sys.stderr)
        return 1
    unchecked = (f"; the op names of {_count(len(report.unread), 'library', 'libraries')} could not be read here, "
                 "so they were not checked (see the notes)" if report.unread else "")
    print(f"no problems ({', '.join(report.checked)}){unchecked}")
    return 0


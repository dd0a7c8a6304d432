"""Models read by the release's own frameworks, before the server does: an
ONNX model in a session of the release's onnxruntime, a TensorFlow model by
the release's TensorFlow, a TorchScript model loaded by the release's torch
(PyPI's stand-in for its NGC libtorch). All come from the toolchains
`opforge build --release` provisioned here; nothing is installed by
`opforge check`, which then says what it did not check.

| model | read with | what fails it in Triton |
|---|---|---|
| TensorFlow SavedModel / GraphDef, and the TensorFlow libraries preloaded server-wide | the release's tensorflow-cpu, with the model_operations and preloaded libraries loaded | a library it does not load ("undefined symbol": built against another TensorFlow; preloaded, "symbol lookup error" ends the server), an op that TensorFlow does not register: "Op type not registered" |
| TorchScript (pytorch_libtorch) | the release's PyPI torch, with the custom ops' schemas defined | anything `torch::jit::load` refuses: "Unknown builtin op: aten::rms_norm", a custom op called against another schema, a file format it does not read |
| ONNX | a session of the release's onnxruntime (CPU), with the model's model_operations libraries registered | a library that runtime does not load, a node no kernel takes (a dtype the custom op lacks: "Could not find an implementation for Clip(1)"), anything else session creation refuses |
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from packaging.version import InvalidVersion, Version

from . import cuda_toolkit, model_ops, releases, toolchains
from .cases import one_line
from .processes import last_words


def tensorflow_models(models: list, release: releases.Release, problems: list, notes: list,
                      preloaded: list = ()) -> None:
    """TensorFlow models [(model, its libraries)] against the release's
    TensorFlow, with their model_operations libraries loaded in it: a
    library it does not load or an op it does not register fails the
    model, as does a release without a TensorFlow backend. The TensorFlow
    libraries preloaded server-wide (`preloaded`, check.Lib) are loaded in it
    too: where it does not load one, neither does the server."""
    models = [(model, libs, model_ops.artifacts(model)) for model, libs in models]
    models = [m for m in models if m[2]]
    preloaded = [lib for lib in preloaded if lib.framework == "tensorflow" and lib.path.is_file()]
    if not models and not preloaded:
        return
    if release.tensorflow == releases.NO_BACKEND:
        why = release.sources.get("tensorflow", "").partition(":")[2].strip()
        for model, _, _ in models:
            problems.append(f"model {model.name}: Triton {release.name} has no TensorFlow backend, so the "
                            f"model cannot load{f' ({why})' if why else ''}")
        for lib in preloaded:  # a preload whose own needs are missing ends the process
            problems.append(f"{lib.label}: preloaded server-wide, but Triton {release.name} has no TensorFlow "
                            f"backend{f' ({why})' if why else ''}: without the libtensorflow_framework it needs, "
                            "the loader ends the server at the preload (error while loading shared libraries, "
                            "exit 127)")
        return
    python = toolchains.PipToolchain(release).made("tensorflow") if release.tensorflow != releases.UNKNOWN else None
    names = ", ".join([model.name for model, _, _ in models] + [lib.label for lib in preloaded])
    if python is None:
        notes.append(f"the TensorFlow ops of {names}: not checked against Triton {release.name}'s TensorFlow "
                     f"{release.tensorflow} (`opforge build --release {release.name}` provisions it here)")
        return
    libraries = sorted({lib.path for _, libs, _ in models for lib in libs
                        if lib.framework == "tensorflow" and lib.path.is_absolute() and lib.path.is_file()}
                       | {lib.path for lib in preloaded})
    try:
        registry = model_ops.tf_unknown_ops([f for _, _, files in models for f in files], str(python), libraries)
    except (ValueError, OSError, subprocess.SubprocessError) as e:
        notes.append(f"the TensorFlow ops of {names}: not read with TensorFlow {release.tensorflow} ({one_line(e)})")
        return
    if registry is None or registry.version != release.tensorflow:
        has = f"TensorFlow {registry.version}" if registry else "no TensorFlow"
        notes.append(f"the TensorFlow ops of {names}: not checked ({python} has {has}, not "
                     f"TensorFlow {release.tensorflow})")
        return
    build_it = (f"build it against TensorFlow {registry.version}: for opforge's ops, opforge build --release "
                f"{release.name}")
    for lib in preloaded:
        why = registry.libraries.get(lib.path)
        if why:  # the loader ends the process at a missing symbol: before main if bound at load (-z now, as
            # opforge links), else at its first call
            fate = ("it takes tritonserver down (the loader ends the process at the undefined symbol: symbol lookup "
                    "error, exit 127)" if "undefined symbol" in why else "the preload fails")
            problems.append(f"{lib.label}: does not load in TensorFlow {registry.version} (Triton {release.name}): "
                            f"{why}; preloaded server-wide, {fate} ({build_it})")
    for model, libs, files in models:
        provided = set().union(*[lib.ops for lib in libs if lib.framework == "tensorflow"] or [set()])
        for lib in libs:
            if registry.libraries.get(lib.path):
                problems.append(f"model {model.name}: {lib.path} does not load in TensorFlow {registry.version} "
                                f"(Triton {release.name}), so the model fails to load: {registry.libraries[lib.path]}"
                                f" ({build_it})")
        for f in files:
            try:
                unknown = registry.unknown(f)
            except model_ops.TfUnreadable as e:
                notes.append(f"model {model.name}: {f.relative_to(model.folder.parent)} not read with "
                             f"TensorFlow {release.tensorflow} ({e})")
                continue
            for op in sorted(unknown - model.needs - provided):
                problems.append(f"model {model.name}: {f.relative_to(model.folder.parent)} uses TensorFlow "
                                f"op {op}, which TensorFlow {registry.version} (Triton {release.name}) does not "
                                f"register (the model fails to load: Op type not registered '{op}')")


# In the release's torch, as Triton's PyTorch backend does (torch::jit::load),
# with the preloaded libraries' ops defined from their schemas: loading
# resolves every call against a schema and runs no kernel.
_TORCHSCRIPT_LOADS = r"""
import json, sys, torch
schemas, paths = json.loads(sys.argv[1]), sys.argv[2:]
libraries, refused = {}, {}
for schema in schemas:
    namespace, _, rest = schema.partition("::")
    try:
        if namespace not in libraries:
            libraries[namespace] = torch.library.Library(namespace, "DEF")
        libraries[namespace].define(rest)
    except Exception as e:
        refused[schema] = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
known = None
def loads(path):
    global known
    try:
        torch.jit.load(path, map_location="cpu")
        return {"error": None}
    except Exception as e:
        lines = [line.strip() for line in str(e).strip().splitlines()]
    cut = lines.index(":") if ":" in lines else len(lines)
    unknown = next((line for line in lines if line.startswith("Unknown builtin op: ")), "")
    op = unknown[len("Unknown builtin op: "):].rstrip(".")
    known = known or set(torch._C._dispatch_get_all_op_names())
    return {"error": " ".join(line for line in lines[:cut] if line)[:600] or "an error without a message",
            "where": next((line for line in lines[cut:] if line.startswith("File ")), ""), "unknown_op": op,
            "namespace_known": bool(op) and any(n.startswith(op.partition("::")[0] + "::") for n in known)}
print(json.dumps({"version": torch.__version__, "refused": refused, "loads": {p: loads(p) for p in paths}}))
"""


def _json_child(python, code: str, args: list[str], env: dict, timeout: float):
    """What a child interpreter running `code` printed as JSON on its last
    line; ValueError with its last words where it failed."""
    proc = subprocess.run([str(python), "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise ValueError(last_words(proc, "the interpreter"))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def torchscript_loads(paths: list[Path], schemas: list[str], python: str) -> dict:
    """How `python`'s torch loads the TorchScript models at `paths` with the
    custom ops of `schemas` defined: {"version", "refused" (schemas it could
    not define), "loads": {path: {"error" (None when it loads), "where",
    "unknown_op", "namespace_known"}}}. In one child for all: a model may
    abort the interpreter, and importing torch takes seconds."""
    return _json_child(python, _TORCHSCRIPT_LOADS, [json.dumps(schemas), *map(str, paths)],
                       dict(os.environ, CUDA_VISIBLE_DEVICES=""), 600 + 30 * len(paths))


def torchscript_models(models: list, torch_libs: list, release: releases.Release, problems: list,
                       notes: list) -> None:
    """TorchScript models against the release's torch, with the ops of the
    preloaded torch libraries (`torch_libs`, check.Lib) defined from their
    schemas (an opforge manifest's, or as the library registered them here)."""
    files = [(model, f) for model in models for f in model_ops.artifacts(model)]
    if not files:
        return
    names = ", ".join(dict.fromkeys(model.name for model, _ in files))
    stand_in, ngc = release.pytorch.public, release.pytorch.ngc
    python = toolchains.PipToolchain(release).made("torch") if releases.UNKNOWN not in (stand_in, ngc) else None
    if python is None:
        why = ("its PyTorch version is unknown: see releases.toml" if releases.UNKNOWN in (stand_in, ngc) else
               f"`opforge build --release {release.name}` provisions PyPI torch {stand_in} here")
        notes.append(f"the TorchScript of {names}: not loaded in Triton {release.name}'s torch ({why})")
        return
    schemas = [s for lib in torch_libs if lib.schemas for s in lib.schemas]
    without_schema = {op for lib in torch_libs if lib.schemas is None for op in lib.ops}
    libtorch = f"Triton {release.name}'s libtorch (PyTorch {ngc}; loaded in PyPI torch {stand_in})"
    # An NGC pre-release is a snapshot newer than the stand-in: what only the stand-in lacks may be there.
    newer_than_stand_in = _is_prerelease(ngc)

    def load(files: list) -> list[dict]:
        """The loads of `files`; where the interpreter fails, each file on its own tells which."""
        try:
            return [torchscript_loads([f for _, f in files], schemas, str(python))]
        except (ValueError, OSError, subprocess.SubprocessError) as e:
            if len(files) > 1:
                return [said for one in files for said in load([one])]
            model, f = files[0]
            notes.append(f"model {model.name}: {f.relative_to(model.folder.parent)} not loaded in {libtorch} "
                         f"({one_line(e)})")
            return []

    results = load(files)
    if any(r["version"].split("+")[0] != stand_in for r in results):
        notes.append(f"the TorchScript of {names}: not loaded ({python} has torch {results[0]['version']}, not "
                     f"{stand_in})")
        return
    for schema, why in (results[0]["refused"] if results else {}).items():
        notes.append(f"the TorchScript of {names}: loaded without {schema} ({why})")
    loads = {path: loaded for r in results for path, loaded in r["loads"].items()}
    for model, f in files:
        where = f"model {model.name}: {f.relative_to(model.folder.parent)}"
        loaded = loads.get(str(f), {"error": None})  # none: it was not loaded, and a note says so
        error, op = loaded["error"], loaded.get("unknown_op", "")
        if error is None:
            continue
        namespace = op.partition("::")[0]
        if op and namespace not in model_ops.TORCH_BUILTIN:
            if op in without_schema:
                notes.append(f"{where}: not loaded in {libtorch}: the schema of {op} is unknown here (its "
                             "library's op names were read, not its schemas)")
            # else: no preloaded library registers it, which check reports for every model
            continue
        # The preloaded ops the refusal quotes the schema of: the release's torch has no say in those.
        custom = sorted({name for name in (s.split("(")[0] for s in schemas) if name + "(" in error})
        if op and not loaded.get("namespace_known"):
            notes.append(f"{where}: not loaded in {libtorch}: it calls {op}, and PyPI torch has no "
                         f"{namespace} ops (Triton's PyTorch backend links them)")
        elif newer_than_stand_in and not custom:
            notes.append(f"{where}: may not load in {libtorch}: torch {stand_in}, the newest release before "
                         f"that NGC snapshot, refuses it: {error}" + _at(loaded))
        elif op:
            problems.append(f"{where} calls {op}, which {libtorch} does not have (the model fails to load: "
                            f"Unknown builtin op: {op}): script it with ops PyTorch {ngc} has, or serve it "
                            "on a release whose PyTorch has it")
        elif custom:
            problems.append(f"{where} calls {', '.join(custom)} otherwise than the preloaded library's schema "
                            f"allows (the model fails to load: {error}{_at(loaded)}): it was scripted against "
                            "another version of that op; script it against this library, or preload the one "
                            "it was scripted with")
        else:
            problems.append(f"{where} does not load in {libtorch}: {error}{_at(loaded)}")


def _at(loaded: dict) -> str:
    return f" ({loaded['where']})" if loaded.get("where") else ""


def _is_prerelease(version: str) -> bool:
    try:
        return Version(version).is_prerelease
    except InvalidVersion:
        return True  # not a version to compare with: the stand-in's verdict is not the release's


# In the release's onnxruntime, as Triton's ONNX Runtime backend does for
# each model: a session with the model's model_operations registered.
_ONNX_SESSIONS = r"""
import json, sys
import onnxruntime as ort
ort.set_default_logger_severity(3)

def one_line(e):
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:600]

def session(path, libraries):
    options = ort.SessionOptions()
    for library in libraries:
        try:
            options.register_custom_ops_library(library)
        except Exception as e:
            return {"library": library, "error": one_line(e)}
    try:
        ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return {"error": None}
    except Exception as e:
        return {"error": one_line(e)}

jobs = json.loads(sys.argv[1])
print(json.dumps({"version": ort.__version__, "sessions": [session(path, libs) for path, libs in jobs]}))
"""


def onnx_models(models: list, release: releases.Release, problems: list, notes: list) -> None:
    """ONNX models [(model, its libraries)] in sessions of the release's
    onnxruntime, each with its model_operations libraries registered.
    Models already named in `problems` are not loaded again."""
    jobs = [(model, libs, f) for model, libs in models for f in model_ops.artifacts(model)
            if not any(p.startswith((f"model {model.name}:", f"model {model.name} ")) for p in problems)]
    relative = {model.name for model, libs, _ in jobs if any(not lib.path.is_absolute() for lib in libs)}
    jobs = [job for job in jobs if job[0].name not in relative]  # the server's loader finds those: not here
    if not jobs:
        return
    names = ", ".join(dict.fromkeys(model.name for model, _, _ in jobs))
    python = toolchains.PipToolchain(release).made("onnxruntime") if release.onnxruntime != releases.UNKNOWN else None
    if python is None:
        why = ("its ONNX Runtime version is unknown: see releases.toml" if release.onnxruntime == releases.UNKNOWN
               else f"`opforge build --release {release.name}` provisions onnxruntime {release.onnxruntime} here")
        notes.append(f"the ONNX sessions of {names}: not made in Triton {release.name}'s ONNX Runtime ({why})")
        return
    files = [(str(f / "model.onnx" if f.is_dir() else f), [str(lib.path) for lib in libs
                                                          if lib.framework == "onnxruntime"]) for _, libs, f in jobs]
    try:
        said = _json_child(python, _ONNX_SESSIONS, [json.dumps(files)], cuda_toolkit.with_cached_runtimes(
            dict(os.environ)), 600 + 30 * len(files))
    except (ValueError, OSError, subprocess.SubprocessError) as e:
        notes.append(f"the ONNX sessions of {names}: not made in Triton {release.name}'s ONNX Runtime "
                     f"({one_line(e)})")
        return
    if said["version"] != release.onnxruntime:
        notes.append(f"the ONNX sessions of {names}: not made ({python} has onnxruntime {said['version']}, not "
                     f"{release.onnxruntime})")
        return
    runtime = f"Triton {release.name}'s ONNX Runtime {release.onnxruntime}"
    for (model, libs, f), session in zip(jobs, said["sessions"]):
        where = f"model {model.name}: {f.relative_to(model.folder.parent)}"
        error = session["error"]
        if error is None:
            continue
        if "library" in session:
            problems.append(f"model {model.name}: {session['library']} does not load in {runtime} (the model "
                            f"fails to load): {error}")
        elif "Could not find an implementation" in error and not all(lib.built_for for lib in libs):
            # A library without an opforge manifest may have kernels for the GPU only: this session is the CPU's.
            notes.append(f"{where}: no CPU kernel takes a node in {runtime} ({error}); a GPU instance may have "
                         "one")
        else:
            why = (" (no kernel of that op takes the node's input and output types)"
                   if "Could not find an implementation" in error else "")
            problems.append(f"{where} does not load in {runtime} with its model_operations (CPU session): "
                            f"{error}{why}")

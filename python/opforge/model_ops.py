"""Which custom ops a model in a Triton model repository needs, read from
the model's own artifact, and which library provides them.

| backend | artifact | what is read |
|---|---|---|
| onnxruntime | model.onnx (a file, or a folder holding model.onnx) | node domains and op types outside ONNX's own domains (subgraphs and model functions included) |
| pytorch | model.pt (TorchScript zip) | the `ops.<namespace>.<op>` calls in its code/ |
| tensorflow | model.savedmodel/saved_model.pb, or model.graphdef | op names in its graphs and function library that TensorFlow does not know (with TensorFlow importable; otherwise the libraries' op names found in it, best effort) |
| tensorrt | model.plan | the libraries' plugin names found in the engine bytes (best effort) |

A model folder without config.pbtxt counts when a version folder holds one of
these files: Triton completes its config itself (without model_operations).
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import cuda_toolkit, model_config, releases
from .cases import camel, one_line, tf_op_name, tf_prefix
from .processes import last_words

BACKENDS = {  # config.pbtxt `platform` -> backend
    "onnxruntime_onnx": "onnxruntime", "pytorch_libtorch": "pytorch", "tensorflow_savedmodel": "tensorflow",
    "tensorflow_graphdef": "tensorflow", "tensorrt_plan": "tensorrt",
}
DEFAULT_FILES = {"onnxruntime": "model.onnx", "pytorch": "model.pt", "tensorflow": "model.savedmodel",
                 "tensorrt": "model.plan"}
DEFAULT_FILE_OF_PLATFORM = {"tensorflow_graphdef": "model.graphdef"}
FRAMEWORK_OF = {"onnxruntime": "onnxruntime", "pytorch": "torch", "tensorflow": "tensorflow", "tensorrt": "tensorrt"}
ONNX_DOMAINS = {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "com.microsoft", "com.microsoft.nchwc",
                "com.ms.internal.nhwc", "org.pytorch.aten", "com.microsoft.experimental"}
# Namespaces Triton's PyTorch backend has without any preload (torchvision: it links libtorchvision).
TORCH_BUILTIN = {"aten", "prim", "quantized", "_quantized", "profiler", "cuda", "onednn", "mkldnn", "mkl", "_caffe2",
                 "cudnn", "fbgemm", "sparse", "_test", "prims", "rngprims", "higher_order", "inductor",
                 "torchvision", "image", "_nested", "_c10d_functional", "c10d", "c10d_functional", "_dtensor"}


class ModelReadError(RuntimeError):
    """A model file that its framework cannot read (one line: model, file, why)."""


class TfUnreadable(ValueError):
    """What TensorFlow said of a file it could not read, in one line."""


@dataclass(frozen=True)
class Library:
    """One library of a release folder and the op names it registers."""

    framework: str
    file: Path
    provides: frozenset[str]


@dataclass
class Model:
    name: str
    folder: Path
    backend: str
    config: object  # inference.ModelConfig
    needs: set[str] = field(default_factory=set)  # op names, as the framework names them
    how: str = ""  # how `needs` was read (exact, or best effort and why)
    has_config: bool = True  # False: Triton completes the config (no model_operations then)
    onnx_stamps: dict = field(default_factory=dict)  # ONNX file -> OnnxStamp

    @property
    def config_path(self) -> Path:
        return self.folder / "config.pbtxt"


# Frameworks whose op names are "<namespace><separator><op>": torch::clip, ONNX's domain:Clip.
QUALIFIED = {"torch": "::", "onnxruntime": ":"}


def op_names(framework: str, namespace: str, ops) -> set[str]:
    """The names a framework knows opforge's ops by."""
    if framework in QUALIFIED:
        return {f"{namespace}{QUALIFIED[framework]}{camel(op) if framework == 'onnxruntime' else op}" for op in ops}
    return {tf_op_name(namespace, op) for op in ops}


def nearest_op(op: str, candidates, needed=()) -> str | None:
    """The op of `candidates` that a misspelt `op` most likely meant, leaving out those the model needs
    already. The cutoff is high because names share their namespace: opforge:Mod and opforge:Clip score 0.70."""
    close = difflib.get_close_matches(op, sorted(set(candidates) - set(needed)), n=1, cutoff=0.8)
    return close[0] if close else None


def split_name(op: str, framework: str | None) -> tuple[str, str] | None:
    """(namespace, op) of a qualified name (QUALIFIED); None for other frameworks or names."""
    sep = QUALIFIED.get(framework)
    namespace, found, name = op.partition(sep) if sep else ("", "", "")
    return (namespace, name) if found else None


def in_namespace(op: str, framework: str | None, namespace: str) -> bool:
    """Whether an op name, as a framework names it, is one of `namespace`'s
    (op_names' conventions). For TensorFlow and TensorRT that is a guess:
    <Prefix><Camel> names are not reserved to one library."""
    if framework in QUALIFIED:
        return (split_name(op, framework) or ("",))[0] == namespace
    prefix = tf_prefix(namespace)
    return op.startswith(prefix) and op[len(prefix):][:1].isupper()


def read_configs(repository: Path) -> tuple[list[Model], list[str]]:
    """Every model folder of a repository (Triton takes hidden folders for
    models too), its needs not yet read; and one line per config that does
    not parse, which Triton would refuse as well."""
    models, errors = [], []
    for folder in sorted(p for p in Path(repository).iterdir() if p.is_dir()):
        path = folder / "config.pbtxt"
        if not path.is_file():
            backend = _backend_without_config(folder)
            if backend:
                models.append(Model(folder.name, folder, backend, model_config.pb2().ModelConfig(), has_config=False))
            continue
        try:
            config = model_config.read(path)
        except Exception as e:  # text_format.ParseError
            errors.append(f"model {folder.name}: {path} does not parse as a Triton model config: "
                          f"{one_line(e)}")
            continue
        models.append(Model(config.name or folder.name, folder, backend_of(config), config))
    return models, errors


def backend_of(config) -> str:
    return config.backend or BACKENDS.get(config.platform, config.platform or "unknown")


def _backend_without_config(folder: Path) -> str | None:
    versions = [v for v in folder.iterdir() if v.is_dir() and v.name.isdigit()]
    for backend, file in [*DEFAULT_FILES.items(), ("tensorflow", "model.graphdef")]:
        if any((v / file).exists() for v in versions):
            return backend
    return None


def served_versions(model: Model) -> list[Path]:
    """The version folders Triton loads: its version_policy, by default the
    latest one only (model_config.proto's ModelVersionPolicy)."""
    versions = sorted((int(v.name), v) for v in model.folder.iterdir() if v.is_dir() and v.name.isdigit())
    policy = model.config.version_policy
    which = policy.WhichOneof("policy_choice")
    if which == "all":
        return [v for _, v in versions]
    if which == "specific":
        return [v for n, v in versions if n in set(policy.specific.versions)]
    latest = policy.latest.num_versions if which == "latest" else 1
    return [v for _, v in versions[-max(latest, 1):]]


def artifacts(model: Model) -> list[Path]:
    """The model file of every version folder the server loads."""
    default = (model.config.default_model_filename or DEFAULT_FILE_OF_PLATFORM.get(model.config.platform)
               or DEFAULT_FILES.get(model.backend, ""))
    if not model.has_config and model.backend == "tensorflow":
        default = next((f for f in ("model.savedmodel", "model.graphdef")
                        if any((v / f).exists() for v in model.folder.iterdir() if v.is_dir())), default)
    if not default:
        return []
    return [v / default for v in served_versions(model) if (v / default).exists()]


@dataclass(frozen=True)
class OnnxStamp:
    """The versions an ONNX file is stamped with, which its runtime must read."""

    ir_version: int
    opsets: dict  # domain ("" read as ai.onnx) -> the opset version it imports


def too_new_for(model: Model, reads: releases.OnnxReads, triton: str) -> list[str]:
    """What in the model's ONNX files Triton's ONNX Runtime (`reads`) refuses
    before it reads any op, one line each."""
    refused, runtime = [], f"Triton {triton}'s ONNX Runtime {reads.onnxruntime}"
    for f, stamp in sorted(model.onnx_stamps.items()):
        where = f"model {model.name}: {f.relative_to(model.folder.parent)}"
        if stamp.ir_version > reads.ir_version:
            refused.append(f"{where} has ONNX IR version {stamp.ir_version}; {runtime} reads {reads.ir_version} at "
                           f"most (the model fails to load: Unsupported model IR version): export it for IR "
                           f"version {reads.ir_version} (onnx stamps its newest; a model that uses nothing newer "
                           f"needs only model.ir_version = {reads.ir_version})")
        for domain, version in sorted(stamp.opsets.items()):
            newest = reads.opsets.get(domain)
            if newest is not None and version > newest:
                refused.append(f"{where} imports {domain} opset {version}; {runtime} reads {domain} opset "
                               f"{newest} at most (the model fails to load: Current official support for domain "
                               f"{domain} is till opset {newest}): export it with {domain} opset {newest} or lower")
    return refused


def read_all_needs(models: list[Model], libraries: list[Library]) -> dict[Path, str]:
    """Reads every model's needs (read_needs); {model folder: why its file
    cannot be read} for the models the server would fail. TensorFlow's op
    registry is asked once, in one interpreter, for every TensorFlow file."""
    tf_files = [f for model in models if model.backend == "tensorflow" for f in artifacts(model)]
    try:
        registry = tf_unknown_ops(tf_files) if tf_files else None
    except (ValueError, OSError, subprocess.SubprocessError):  # TensorFlow here is broken: as if absent
        registry = None
    unreadable = {}
    for model in models:
        try:
            read_needs(model, libraries, registry)
        except ModelReadError as e:
            unreadable[model.folder] = str(e)
    return unreadable


def read_needs(model: Model, libraries: list[Library], registry: TfRead | None = None) -> None:
    """`registry`: what TensorFlow here said of the model's TensorFlow files
    (tf_unknown_ops); None: TensorFlow is not importable here."""
    reader = {"onnxruntime": _onnx, "pytorch": _torchscript, "tensorrt": _tensorrt,
              "tensorflow": functools.partial(_tensorflow, registry=registry)}
    if model.backend not in reader:
        model.how = f"{model.backend} models load no op library"
        return
    files = artifacts(model)
    if not files:
        model.how = "no model file in a version folder"
        return
    hows = []
    for f in files:
        try:
            needs, how, *stamp = reader[model.backend](f, [lib for lib in libraries
                                                           if lib.framework == FRAMEWORK_OF[model.backend]])
        except Exception as e:  # DecodeError, BadZipFile, OSError, ...: the server would fail this model
            why = str(e) if isinstance(e, TfUnreadable) else one_line(e)
            raise ModelReadError(f"model {model.name}: {f.relative_to(model.folder.parent)} cannot be read as a "
                                 f"{model.backend} model ({why})") from None
        model.needs |= needs
        hows.append(how)
        if stamp:
            model.onnx_stamps[f] = stamp[0]
    model.how = hows[0]


def _onnx(path: Path, _libraries):
    import onnx

    if path.is_dir():  # Triton's folder form: the model (and its external data) inside
        path = path / "model.onnx"
    model = onnx.load(str(path), load_external_data=False)
    local = {(f.domain, f.name) for f in model.functions}
    needs = set()

    def walk(graph):
        for node in graph.node:
            if node.domain not in ONNX_DOMAINS and (node.domain, node.op_type) not in local:
                needs.add(f"{node.domain}:{node.op_type}")
            for attr in node.attribute:
                if attr.g.node:
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)

    walk(model.graph)
    for f in model.functions:
        walk(f)
    opsets: dict[str, int] = {}
    for o in model.opset_import:  # "" and "ai.onnx" name one domain: the higher version counts
        opsets[o.domain or "ai.onnx"] = max(o.version, opsets.get(o.domain or "ai.onnx", o.version))
    return needs, "exact: the ONNX graph's node domains", OnnxStamp(model.ir_version, opsets)


def _torchscript(path: Path, _libraries):
    needs = set()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if "/code/" in name and name.endswith(".py"):
                text = z.read(name).decode("utf-8", "replace")
                for ns, op in re.findall(r"\bops\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b", text):
                    if ns not in TORCH_BUILTIN:
                        needs.add(f"{ns}::{op}")
    return needs, "exact: the ops.<namespace>.<op> calls in the TorchScript code"


_TF_UNKNOWN_OPS = r"""
import json, sys
try:
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.framework import load_library, op_def_registry, versions
except ImportError:
    sys.exit(3)

def one_line(e):
    return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}".rstrip(": ")

libraries = {}
for library in json.loads(sys.argv[1]):  # their ops are then registered, as in the server
    try:
        load_library.load_op_library(library)
        libraries[library] = None
    except Exception as e:  # NotFoundError: undefined symbol (built for another TensorFlow)
        libraries[library] = one_line(e)

def unknown(path):
    data = open(path, "rb").read()
    if path.endswith("saved_model.pb"):
        graphs = [mg.graph_def for mg in saved_model_pb2.SavedModel.FromString(data).meta_graphs]
    else:  # tensorflow_graphdef: a GraphDef
        graphs = [graph_pb2.GraphDef.FromString(data)]
    ops = set()
    for g in graphs:
        ops |= {n.op for n in g.node}
        for f in g.library.function:
            ops |= {n.op for n in f.node_def}
    return sorted(op for op in ops if op_def_registry.get(op) is None)

read = {}
for path in sys.argv[2:]:
    try:
        read[path] = unknown(path)
    except Exception as e:  # DecodeError, OSError: that file only
        read[path] = one_line(e)
print(json.dumps([versions.__version__, read, libraries]))
"""


@dataclass(frozen=True)
class TfRead:
    """What one TensorFlow said of model files: per file, the op names it
    does not register, or why the file could not be read; per op library
    loaded first, None or why it did not load."""

    version: str
    files: dict  # Path -> set[str] | str
    libraries: dict = field(default_factory=dict)  # Path -> None | str

    def unknown(self, path: Path) -> set[str]:
        got = self.files[_tf_graph_file(path)]
        if isinstance(got, str):
            raise TfUnreadable(got)
        return got


def _tf_graph_file(path: Path) -> Path:
    return path / "saved_model.pb" if path.is_dir() else path


def tf_unknown_ops(paths: list[Path], python: str = sys.executable, libraries: list[Path] = ()) -> TfRead | None:
    """What the TensorFlow of `python` says of the models at `paths` (each a
    SavedModel folder or a GraphDef), once `libraries` are loaded: the op
    names it does not register; None where that python has no TensorFlow.
    In one child interpreter for all: importing TensorFlow is slow and
    noisy, and must not happen in the process that writes the repository."""
    files = [_tf_graph_file(Path(p)) for p in paths]
    proc = subprocess.run([str(python), "-c", _TF_UNKNOWN_OPS, json.dumps([str(lib) for lib in libraries]),
                           *map(str, files)], capture_output=True, text=True, timeout=300 + 10 * len(files),
                          env=cuda_toolkit.with_cached_runtimes(dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")))
    if proc.returncode == 3:
        return None
    if proc.returncode != 0:
        raise ValueError(last_words(proc, "TensorFlow"))
    version, read, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    return TfRead(version, {Path(f): got if isinstance(got, str) else set(got) for f, got in read.items()},
                  {Path(lib): why for lib, why in loaded.items()})


def _tensorflow(path: Path, libraries, registry: TfRead | None = None):
    if registry is not None:
        return (registry.unknown(path),
                "exact: ops of the graphs and function library that TensorFlow does not register itself")
    data = _tf_graph_file(path).read_bytes()
    found = {name for lib in libraries for name in lib.provides if name.encode() in data}
    return found, ("best effort: TensorFlow here did not read it (not importable, or it failed), so only the "
                   "libraries' op names were looked for")


def _tensorrt(path: Path, libraries):
    data = path.read_bytes()
    found = {name for lib in libraries for name in lib.provides if name.encode() in data}
    return found, "best effort: the libraries' plugin names found in the serialized engine"

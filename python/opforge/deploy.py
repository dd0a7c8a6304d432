"""`opforge deploy`: put a release folder's op libraries into a Triton model
repository, wire each model to them, and write the server's launch file.

- Which model needs which library is read from the model's own artifact
  (model_ops.py).
- The libraries are copied into the repository's root folder as files: Triton
  takes every folder there for a model (a hidden one too, and then fails to
  start with "failed to load all models"), but ignores plain files.
- ONNX Runtime and TensorFlow models get ``model_operations`` in their
  config.pbtxt (through Triton's own proto), with the paths the server will
  see (``--mount``: where the repository is mounted in the server's
  container; default its absolute path here). Every other field stays as it
  was; a second run changes nothing; each write is atomic and the first
  change of a config keeps ``config.pbtxt.opforge-backup``.
- ``opforge-tritonserver.sh`` starts the server with the server-wide routes:
  PyTorch by LD_PRELOAD (with the backend's libtorch on the library path),
  TensorRT by ``--backend-config=tensorrt,plugins=``, TensorFlow preloaded
  only with ``--preload-tensorflow`` (it breaks the python backend's stub,
  Triton issue 5507).
- A model that needs an op no library provides stops the run with one line
  naming the model and the op, before anything is written.
"""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import model_config, model_ops
from .model_ops import Library, Model

LAUNCH = "opforge-tritonserver.sh"  # files at the repository's root: Triton ignores files there
RECORD = "opforge-deploy.json"
BACKUP_SUFFIX = ".opforge-backup"
PER_MODEL = {"onnxruntime": "onnxruntime", "tensorflow": "tensorflow"}  # backend -> library framework


class DeployError(RuntimeError):
    """Nothing was written; the message says why (one line)."""


@dataclass
class Plan:
    repository: Path
    mount: str
    libraries: dict[str, Library]  # framework -> library
    models: list[Model]
    used: dict[str, list[str]] = field(default_factory=dict)  # framework -> models using it
    configs: dict[Path, str] = field(default_factory=dict)  # config.pbtxt -> new text (changed ones only)
    preload_tensorflow: bool = False

    def server_path(self, lib: Library) -> str:
        return f"{self.mount.rstrip('/')}/{lib.file.name}"


def release_libraries(libs: Path) -> dict[str, Library]:
    manifest_path = libs / "manifest.json"
    if not manifest_path.is_file():
        raise DeployError(f"{libs} has no manifest.json: give a release folder made by `opforge build` "
                          "(e.g. dist/triton-23.05)")
    manifest = json.loads(manifest_path.read_text())
    out = {}
    for entry in manifest["libraries"]:
        if entry["status"] == "built":
            out[entry["framework"]] = Library(entry["framework"], libs / entry["library"], frozenset(
                model_ops.op_names(entry["framework"], manifest["namespace"], manifest["ops"])))
    return out


def read_models(repository: Path, libraries: dict[str, Library]) -> list[Model]:
    models, errors = model_ops.read_configs(repository)
    if errors:
        raise DeployError(errors[0])
    for model in models:
        model_ops.read_needs(model, list(libraries.values()))
    return models


def plan(repository: Path, libs: Path, mount: str | None = None, preload_tensorflow: bool = False) -> Plan:
    repository = Path(repository).resolve()
    if not repository.is_dir():
        raise DeployError(f"--model-repository {repository}: no such folder")
    libraries = release_libraries(Path(libs).resolve())
    p = Plan(repository, mount or str(repository), libraries, read_models(repository, libraries),
             preload_tensorflow=preload_tensorflow)
    for model in p.models:
        fw = model_ops.FRAMEWORK_OF.get(model.backend)
        if not model.needs:
            continue
        lib = libraries.get(fw)
        missing = sorted(model.needs - (lib.provides if lib else frozenset()))
        if missing:
            where = f"{libs}'s {fw} library" if lib else f"{libs} (it has no {fw} library)"
            raise DeployError(f"model {model.name} ({model.backend}) needs op {missing[0]}"
                              f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}, "
                              f"which {where} does not provide")
        p.used.setdefault(fw, []).append(model.name)
        if model.backend in PER_MODEL:
            text = _with_model_operations(model, p.server_path(lib), lib.file.name)
            if text is not None:
                p.configs[model.folder / "config.pbtxt"] = text
    return p


def _with_model_operations(model: Model, path: str, file_name: str) -> str | None:
    """The config with `path` as its op library, or None if it has it already.
    An entry for the same file elsewhere (an earlier deploy under another
    mount) is replaced: ONNX Runtime fails a model whose library registers
    its domain twice."""
    current = list(model.config.model_operations.op_library_filename)
    wanted = [p for p in current if Path(p).name != file_name or p == path]
    if path not in wanted:
        wanted.append(path)
    if wanted == current:
        return None
    config = model_config.pb2().ModelConfig()
    config.CopyFrom(model.config)
    del config.model_operations.op_library_filename[:]
    config.model_operations.op_library_filename.extend(wanted)
    return model_config.to_text(config)


def launch_script(p: Plan) -> str:
    preload = [p.server_path(p.libraries["torch"])] if "torch" in p.used else []
    paths = ["$BACKENDS/pytorch"] if "torch" in p.used else []
    if p.preload_tensorflow and "tensorflow" in p.used:
        preload.append(p.server_path(p.libraries["tensorflow"]))
        paths.append("$BACKENDS/tensorflow")
    args = [f"--model-repository={p.mount}"]
    if "tensorrt" in p.used:
        args.append(f"--backend-config=tensorrt,plugins={p.server_path(p.libraries['tensorrt'])}")
    lines = ["#!/bin/sh",
             "# Written by `opforge deploy`: starts tritonserver on this model repository with the op",
             "# libraries its models need. ONNX Runtime and TensorFlow models name theirs in config.pbtxt.",
             "# TRITONSERVER and TRITON_BACKENDS override the server binary and its backends folder.",
             'TRITONSERVER="${TRITONSERVER:-tritonserver}"',
             'BACKENDS="${TRITON_BACKENDS:-/opt/tritonserver/backends}"']
    for model_fw, names in sorted(p.used.items()):
        lines.append(f"# {model_fw}: {', '.join(names)}")
    if paths:
        lines.append(f'export LD_LIBRARY_PATH="{":".join(paths)}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"')
    # Through env: LD_PRELOAD reaches the server alone, not this shell or a wrapper around it.
    pre = f'LD_PRELOAD="{":".join(preload)}${{LD_PRELOAD:+:$LD_PRELOAD}}" ' if preload else ""
    lines.append(f'exec env {pre}"$TRITONSERVER" {" ".join(shlex.quote(a) for a in args)} "$@"')
    return "\n".join(lines) + "\n"


def apply(p: Plan) -> list[str]:
    """Carry the plan out; what changed, one line each (empty: nothing to do)."""
    changes = []
    folder = p.repository
    for fw in sorted(p.used):
        lib = p.libraries[fw]
        dest = folder / lib.file.name
        if not dest.is_file() or dest.read_bytes() != lib.file.read_bytes():
            tmp = folder / f".{lib.file.name}.partial"
            shutil.copy2(lib.file, tmp)
            tmp.replace(dest)
            changes.append(f"copied {lib.file.name} to {dest}")
    for path, text in sorted(p.configs.items()):
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        if not backup.exists():
            shutil.copy2(path, backup)
        model_config.write_atomic(path, text)
        changes.append(f"{path.parent.name}: model_operations in config.pbtxt (backup: {backup.name})")
    # The release's manifest beside the copies: it names their ops for `opforge check`.
    if p.used:
        manifest = p.libraries[next(iter(p.used))].file.parent / "manifest.json"
        copy = folder / f"opforge-manifest.{json.loads(manifest.read_text())['namespace']}.json"
        if not copy.is_file() or copy.read_bytes() != manifest.read_bytes():
            model_config.write_atomic(copy, manifest.read_text())
    launch = folder / LAUNCH
    script = launch_script(p)
    if not launch.is_file() or launch.read_text() != script:
        model_config.write_atomic(launch, script)
        launch.chmod(0o755)
        changes.append(f"wrote {launch}")
    record = json.dumps({"mount": p.mount, "libraries": {fw: p.libraries[fw].file.name for fw in sorted(p.used)},
                         "models": {m.name: {"backend": m.backend, "needs": sorted(m.needs), "read": m.how}
                                    for m in p.models}}, indent=2) + "\n"
    deploy_json = folder / RECORD
    if not deploy_json.is_file() or deploy_json.read_text() != record:
        model_config.write_atomic(deploy_json, record)
    return changes


def main(repository: str, libs: str, mount: str | None, preload_tensorflow: bool) -> int:
    import sys

    try:
        p = plan(Path(repository), Path(libs), mount, preload_tensorflow)
    except DeployError as e:
        print(f"opforge deploy: {e}", file=sys.stderr)
        return 1
    changes = apply(p)
    for m in p.models:
        print(f"{m.name} ({m.backend}): "
              + (f"needs {', '.join(sorted(m.needs))}" if m.needs else "no custom ops") + f" [{m.how}]")
    print("\n".join(changes) if changes else "nothing to change: the repository is already deployed")
    print(f"start the server with: {p.repository / LAUNCH}")
    return 0

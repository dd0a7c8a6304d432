"""`opforge deploy --remove NAMESPACE`: take one namespace's ops back out of
a model repository, undoing what `opforge deploy` wrote for it.

- Refused, with nothing changed, while a model still needs one of the
  namespace's ops (read from its artifact, as deploy reads it): without the
  library that model would fail to load and the server to start.
- Each config.pbtxt loses the namespace's ``op_library_filename`` entries. A
  config that then equals its ``config.pbtxt.opforge-backup`` gets the
  backup's text back and the backup goes; one that deploy appended the field
  to keeps the author's text; otherwise it is written from Triton's proto
  and the backup stays.
- The namespace's libraries and manifest copy at the repository's root go;
  the launch file and the deploy record keep the other namespaces' shares,
  and go with the last one.
- All or nothing, as deploy: a failed write puts back every file before it.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from google.protobuf import text_format

from . import files, model_config, model_ops, ops_folder
from ._library import FRAMEWORKS, library_file
from .deploy import (LAUNCH, RECORD, BadArgument, DeployError, _Writes, backup_of, in_turn, launch_script,
                     manifest_copy, previous_record)
from .model_ops import Library, Model


def _release_ops(repository: Path, namespace: str) -> list[str] | None:
    """The namespace's ops, from the manifest copy deploy wrote (None: no readable copy)."""
    try:
        ops = json.loads(manifest_copy(repository, namespace).read_text()).get("ops")
    except (OSError, ValueError, AttributeError):
        return None
    return ops if isinstance(ops, list) and all(isinstance(op, str) for op in ops) else None


def _still_needed(models: list[Model], namespace: str, ops: list[str] | None) -> list[str]:
    """"model (backend) needs op" for each model that needs an op of the namespace."""
    needed = []
    for model in models:
        fw = model_ops.FRAMEWORK_OF.get(model.backend)
        names = model_ops.op_names(fw, namespace, ops) if fw and ops is not None else None
        # Torch and ONNX names carry the namespace; TensorFlow's are claimed by the release's op list where known.
        ours = sorted(op for op in model.needs if model_ops.in_namespace(op, fw, namespace)
                      and (fw in model_ops.QUALIFIED or names is None or op in names))
        if ours:
            needed.append(f"model {model.name} ({model.backend}) needs {ours[0]}"
                          + (f" (and {len(ours) - 1} more)" if len(ours) > 1 else ""))
    return needed


def _config_text(model: Model, kept: list[str]) -> tuple[str, bool]:
    """The config with only `kept` as op libraries, and whether that text is its backup's."""
    config = model_config.pb2().ModelConfig()
    config.CopyFrom(model.config)
    config.ClearField("model_operations")
    if kept:
        config.model_operations.op_library_filename.extend(kept)
    candidates = []
    with contextlib.suppress(OSError):
        candidates.append((_text(backup_of(model.config_path)), True))
    text = _text(model.config_path)
    eol = "\r\n" if "\r\n" in text else "\n"
    appended = model_config.model_operations(list(model.config.model_operations.op_library_filename))
    if text.endswith(appended.replace("\n", eol)):  # the field as deploy appended it to the author's text
        candidates.append((text[:-len(appended.replace("\n", eol))]
                           + (model_config.model_operations(kept).replace("\n", eol) if kept else ""), False))
    for candidate, from_backup in candidates:
        with contextlib.suppress(text_format.ParseError):
            if model_config.parse(candidate) == config:
                return candidate, from_backup
    return model_config.to_text(config), False


def _text(path: Path) -> str:
    with open(path, newline="") as f:  # its own line endings (CRLF stays CRLF)
        return f.read()


def main(repository: str, namespace: str) -> int:
    status, changes = in_turn(repository, lambda: remove(Path(repository), namespace))
    if not status:
        print("\n".join(changes))
    return status


def remove(repository: Path, namespace: str) -> list[str]:
    """Take the namespace out of the repository; what changed, one line each."""
    repository = Path(repository).resolve()
    if not repository.is_dir():
        raise BadArgument(f"--model-repository {repository}: {files.missing(repository, 'folder')}")
    if not ops_folder.NAMESPACE.match(namespace):
        raise BadArgument(f"--remove {namespace!r}: give the namespace of a deployed release (a lower-case C "
                          "identifier, e.g. opforge)")
    record = previous_record(repository)
    shares = record.get("namespaces", {})
    libraries = {fw: repository / library_file(namespace, fw) for fw in FRAMEWORKS}
    manifest = manifest_copy(repository, namespace)
    ops = _release_ops(repository, namespace)
    models, errors = model_ops.read_configs(repository)
    if errors:
        raise DeployError(errors[0])
    unreadable = model_ops.read_all_needs(models, [
        Library(fw, file, frozenset(model_ops.op_names(fw, namespace, ops or []))) for fw, file in libraries.items()
        if file.is_file()])
    if unreadable:
        raise DeployError(f"{next(iter(unreadable.values()))}: whether it needs {namespace}'s ops is unknown; "
                          "nothing was changed")
    needed = _still_needed(models, namespace, ops)
    if needed:
        more = ("" if len(needed) == 1 else f" (1 more model needs {namespace}'s ops too)" if len(needed) == 2
                else f" ({len(needed) - 1} more models need {namespace}'s ops too)")
        raise DeployError(f"{needed[0]}{more}: take {namespace}'s ops out of the models that use them, or those "
                          "models out of the repository, first; nothing was changed")
    names = {file.name for file in libraries.values()}
    configs = []  # (model, its new text, whether that is its backup's)
    for model in models:
        current = list(model.config.model_operations.op_library_filename)
        kept = [path for path in current if Path(path).name not in names]
        if kept != current:
            configs.append((model, *_config_text(model, kept)))
    removed = [file for file in [*libraries.values(), manifest] if file.is_file() or file.is_symlink()]
    if namespace not in shares and not configs and not removed:
        deployed = f"deployed there: {', '.join(sorted(shares))}" if shares else "nothing is deployed there"
        return [f"nothing to remove: {repository} has no ops of namespace {namespace} ({deployed})"]
    for folder in {repository, *(model.config_path.resolve().parent for model, *_ in configs)}:
        if not os.access(folder, os.W_OK):
            raise DeployError(f"{folder} is not writable here: nothing was changed")

    changes = []
    writes = _Writes()
    try:
        for model, text, from_backup in configs:
            path, backup = model.config_path.resolve(), backup_of(model.config_path)
            writes.text(path, text)
            if from_backup:
                writes.remove(backup)
            changes.append(f"{model.folder.name}: {namespace}'s library out of model_operations in config.pbtxt"
                           + (f" (restored from {backup.name})" if from_backup else ""))
        for file in removed:
            writes.remove(file)
            changes.append(f"removed {file}")
        rest = {ns: share for ns, share in shares.items() if ns != namespace}
        if namespace not in shares:
            pass  # the record (if any) never had it: the launch file has no share of it either
        elif rest:
            record = {**record, "namespaces": rest}
            writes.text(repository / LAUNCH, launch_script(record), mode=0o755 & ~files.umask())
            writes.text(repository / RECORD, json.dumps(record, indent=2) + "\n")
            changes.append(f"wrote {repository / LAUNCH} and {repository / RECORD} for {', '.join(sorted(rest))}")
        else:  # the last namespace: the repository as it was before the first deploy
            for file in (repository / LAUNCH, repository / RECORD):
                if file.is_file():
                    writes.remove(file)
                    changes.append(f"removed {file}")
    except BaseException:
        writes.rollback()
        raise
    writes.commit()
    return changes

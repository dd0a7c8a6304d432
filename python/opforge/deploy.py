"""`opforge deploy`: put a release folder's op libraries into a Triton model
repository, wire each model to them, and write the server's launch file.

- Which model needs which library is read from the model's own artifact
  (model_ops.py). A release answers only for the ops of its own namespace:
  ops of other libraries (onnxruntime-extensions, another opforge namespace
  deployed before or after) are left to them.
- The libraries are copied into the repository's root folder as files: Triton
  takes every folder there for a model (a hidden one too, and then fails to
  start with "failed to load all models"), but ignores plain files. One
  that an earlier deploy copied and no model needs any more goes, unless a
  config still lists it.
- ONNX Runtime and TensorFlow models get ``model_operations`` in their
  config.pbtxt (through Triton's own proto), with the paths the server will
  see (``--mount``: where the repository is mounted in the server's
  container; default its absolute path here). Every other field stays as it
  was; a second run changes nothing; the first change of a config keeps
  ``config.pbtxt.opforge-backup``.
- ``opforge-tritonserver.sh`` starts the server with the server-wide routes
  of every namespace deployed into the repository: PyTorch by LD_PRELOAD
  (with the backend's libtorch on the library path), TensorRT by
  ``--backend-config=tensorrt,plugins=``, TensorFlow preloaded only with
  ``--preload-tensorflow`` (it breaks the python backend's stub, Triton
  issue 5507).
- Everything that can be checked is checked before the first write (a
  model that needs an op the release lacks, a library that does not match
  its manifest, a path the loader would split); a write that fails anyway
  undoes the ones before it. Either way the repository is left as it was.
- Deploys into one repository take turns (a lock on its folder): each reads
  the record the one before it wrote, so no namespace's share is lost.
- ``--remove NAMESPACE`` (undeploy.py) takes a namespace back out.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import text_format

from . import files, model_config, model_ops, releases
from ._library import FRAMEWORKS, library_file
from .model_ops import Library, Model, split_name

LAUNCH = "opforge-tritonserver.sh"  # files at the repository's root: Triton ignores files there
RECORD = "opforge-deploy.json"
SHARE_LISTS = ("preload", "backends_on_library_path", "tensorrt_plugins")  # a namespace's share of the launch file
BACKUP_SUFFIX = ".opforge-backup"
PER_MODEL = {"onnxruntime": "onnxruntime", "tensorflow": "tensorflow"}  # backend -> library framework
# ld.so splits LD_PRELOAD at spaces and colons; Triton splits the TensorRT plugin list at semicolons and
# --backend-config at commas.
SPLIT_BY_THE_SERVER = re.compile(r"[\s:;,]")


def manifest_copy(repository: Path, namespace: str) -> Path:
    """Where a deploy keeps the namespace's release manifest in the repository (`opforge check` reads it)."""
    return repository / f"opforge-manifest.{namespace}.json"


def backup_of(config: Path) -> Path:
    """config.pbtxt's copy from before its first deploy (of the file a symlinked config points to)."""
    config = config.resolve()
    return config.with_name(config.name + BACKUP_SUFFIX)


class DeployError(RuntimeError):
    """Nothing was written; the message says why (one line). Exit 1."""


class BadArgument(DeployError):
    """An argument to give otherwise (a folder that is not what it should be, a --mount): exit 2, as for
    argparse's own refusals and `opforge check` and `build`'s."""


@dataclass
class Plan:
    repository: Path
    mount: str
    namespace: str
    manifest: Path
    libraries: dict[str, Library]  # framework -> library
    models: list[Model]
    previous: dict  # the repository's deploy record so far
    used: dict[str, list[str]] = field(default_factory=dict)  # framework -> models using it
    configs: dict[Path, str] = field(default_factory=dict)  # config.pbtxt -> new text (changed ones only)
    preload_tensorflow: bool = False
    notes: list[str] = field(default_factory=list)  # for the user; nothing was refused for them
    unused: list[Path] = field(default_factory=list)  # libraries an earlier deploy copied, needed no more

    def server_path(self, lib: Library) -> str:
        return f"{self.mount.rstrip('/')}/{lib.file.name}"

    def server_wide(self) -> dict:
        """This namespace's share of the launch file, as the record keeps it."""
        preload = ["torch"] + (["tensorflow"] if self.preload_tensorflow else [])
        return {"preload": [self.libraries[fw].file.name for fw in preload if fw in self.used],
                "backends_on_library_path": [{"torch": "pytorch", "tensorflow": "tensorflow"}[fw]
                                             for fw in preload if fw in self.used],
                "tensorrt_plugins": [self.libraries["tensorrt"].file.name] if "tensorrt" in self.used else [],
                "models": {fw: names for fw, names in sorted(self.used.items())}}

    def record(self) -> dict:
        namespaces = dict(self.previous.get("namespaces", {}))
        namespaces[self.namespace] = self.server_wide()
        models = {m.name: {"backend": m.backend, "needs": sorted(m.needs), "read": m.how} for m in self.models}
        return {"mount": self.mount, "namespaces": dict(sorted(namespaces.items())), "models": models}


def _manifest(libs: Path) -> dict:
    path = libs / "manifest.json"
    if not libs.is_dir():
        raise BadArgument(f"--libs {libs}: {files.missing(libs, 'folder')} "
                          "(give a release folder made by `opforge build`)")
    if (libs / "ops.cmake").is_file():
        raise BadArgument(f"--libs {libs} is an ops folder: build it first (opforge build --ops "
                          f"{shlex.quote(str(libs))} --release YY.MM --out DIR) and give that DIR")
    if not path.is_file():
        raise BadArgument(f"{libs} has no manifest.json: give a release folder made by `opforge build` "
                          "(e.g. dist/triton-23.05)")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as e:
        raise DeployError(f"{path} does not parse ({e}): build the release folder again") from None
    if not (isinstance(manifest, dict) and {"namespace", "ops", "libraries"} <= manifest.keys()
            and isinstance(manifest["namespace"], str) and _strings(manifest["ops"])
            and isinstance(manifest["libraries"], list)
            and all(isinstance(e, dict) and {"framework", "status"} <= e.keys() for e in manifest["libraries"])):
        raise DeployError(f"{path} is not an opforge manifest (no namespace, ops or libraries): build the "
                          "release folder again with `opforge build`")
    return manifest


def release_libraries(libs: Path) -> tuple[str, list[str], dict[str, Library], dict]:
    """The release's namespace, its ops, its built libraries, each checked
    against the sha256 its manifest records, and the Triton release it names."""
    manifest = _manifest(libs)
    out = {}
    for entry in manifest["libraries"]:
        if entry["status"] != "built" or entry["framework"] not in FRAMEWORKS:  # not one this opforge deploys
            continue
        file = libs / entry.get("library", "")
        if not file.is_file():
            raise DeployError(f"{file} is missing (the manifest lists it): copy the whole release folder, "
                              "or build it again")
        if "sha256" in entry and hashlib.sha256(file.read_bytes()).hexdigest() != entry["sha256"]:
            raise DeployError(f"{file} is not the library its manifest records (sha256 differs): copy the "
                              "release folder again, or build it again")
        out[entry["framework"]] = Library(entry["framework"], file, frozenset(
            model_ops.op_names(entry["framework"], manifest["namespace"], manifest["ops"])))
    release = manifest.get("release")
    return manifest["namespace"], manifest["ops"], out, release if isinstance(release, dict) else {}


def read_models(repository: Path, libraries: dict[str, Library]) -> list[Model]:
    models, errors = model_ops.read_configs(repository)
    if errors:
        raise DeployError(errors[0])
    unreadable = model_ops.read_all_needs(models, list(libraries.values()))
    if unreadable:
        raise DeployError(next(iter(unreadable.values())))
    return models


def previous_record(repository: Path) -> dict:
    """The repository's deploy record; one from an opforge before namespaces
    were recorded is read as its one namespace."""
    path = repository / RECORD
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text())
    except ValueError as e:
        raise DeployError(f"{path} does not parse ({e}): remove it and deploy every release again") from None
    if not _is_record(record):
        raise DeployError(f"{path} is not a deploy record of opforge: remove it and deploy every release again")
    if "namespaces" not in record and record.get("libraries"):
        files = record["libraries"]
        ns = next(iter(files.values()))[len("lib"):].rsplit("_", 1)[0]
        record["namespaces"] = {ns: {"preload": [files["torch"]] if "torch" in files else [],
                                     "backends_on_library_path": ["pytorch"] if "torch" in files else [],
                                     "tensorrt_plugins": [files["tensorrt"]] if "tensorrt" in files else [],
                                     "models": {}}}
    return record


def _normal_mount(mount: str) -> str:
    return mount.rstrip("/") or "/"


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_record(record) -> bool:
    """The shape previous_record and launch_script rely on (this opforge's or an earlier one's)."""
    if not isinstance(record, dict) or not isinstance(record.get("mount", ""), str):
        return False
    if "namespaces" not in record:
        files = record.get("libraries", {})
        return isinstance(files, dict) and all(isinstance(f, str) for f in files.values())
    shares = record["namespaces"]
    return isinstance(shares, dict) and all(
        isinstance(share, dict) and all(_strings(share.get(k)) for k in SHARE_LISTS)
        and isinstance(share.get("models"), dict) and all(_strings(v) for v in share["models"].values())
        for share in shares.values())


def plan(repository: Path, libs: Path, mount: str | None = None, preload_tensorflow: bool = False) -> Plan:
    repository = Path(repository).resolve()
    if not repository.is_dir():
        raise BadArgument(f"--model-repository {repository}: {files.missing(repository, 'folder')}")
    if mount is not None and not mount.startswith("/"):
        raise BadArgument(f"--mount {mount}: give the absolute path at which the server sees the repository "
                          "(e.g. /models)")
    libs = Path(libs).resolve()
    namespace, ops, libraries, release = release_libraries(libs)
    previous = previous_record(repository)
    mount = _normal_mount(mount or str(repository))
    others = sorted(set(previous.get("namespaces", {})) - {namespace})
    if others and _normal_mount(previous.get("mount", "")) != mount:
        raise DeployError(f"{repository} holds the ops of {', '.join(others)} for --mount {previous.get('mount')}: "
                          f"deploy with that --mount, or remove {repository / RECORD} and deploy every release "
                          f"again with --mount {mount}")
    p = Plan(repository, mount, namespace, libs / "manifest.json", libraries, read_models(repository, libraries),
             previous, preload_tensorflow=preload_tensorflow)
    name, known = release.get("name"), releases.load_releases()
    # The release matrix's runtime, as `opforge check` reads it (not the copy the manifest froze).
    reads = releases.onnx_reads(known[name].onnxruntime) if isinstance(name, str) and name in known else None
    for model in p.models if reads else []:  # not deploy's to refuse: the model fails whichever ops it is given
        p.notes += model_ops.too_new_for(model, reads, name)
    names = {fw: model_ops.op_names(fw, namespace, ops) for fw in set(model_ops.FRAMEWORK_OF.values())}
    deployed = set(previous.get("namespaces", {}))
    for model in p.models:
        fw = model_ops.FRAMEWORK_OF.get(model.backend)
        lib = libraries.get(fw)
        release_ops = names.get(fw, set())
        ours = {op for op in model.needs if model_ops.in_namespace(op, fw, namespace)}
        if fw == "tensorflow" and ours - release_ops:
            # <Prefix><Camel> is only a convention: another library's op may share the prefix (namespace
            # regex, TensorFlow Text's RegexSplitWithOffsets). A name of no op of this release is not claimed.
            foreign = sorted(ours - release_ops)
            p.notes.append(f"model {model.name} needs {', '.join(foreign)}: named like {namespace}'s ops, but no "
                           f"op of this release. Unless another library provides "
                           f"{'them' if len(foreign) > 1 else 'it'}, the model fails to load (`opforge check` tells)")
            ours -= set(foreign)
        p.notes += _elsewhere(model, fw, namespace, release_ops, deployed)
        if not ours:
            continue
        missing = sorted(ours - (lib.provides if lib else frozenset()))
        if missing:
            where = f"{libs}'s {fw} library" if lib else f"{libs} (it has no {fw} library)"
            close = model_ops.nearest_op(missing[0], release_ops, model.needs) if lib else None
            hint = f": did you mean {close}?" if close else \
                f" (its {fw} ops: {', '.join(sorted(release_ops))})" if lib else ""
            raise DeployError(f"model {model.name} ({model.backend}) needs op {missing[0]}"
                              f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}, "
                              f"which {where} does not provide{hint}")
        p.used.setdefault(fw, []).append(model.name)
        if model.backend in PER_MODEL:
            if not model.has_config:
                raise DeployError(f"model {model.name} needs {sorted(ours)[0]} but has no config.pbtxt, and "
                                  "Triton completes a config without model_operations: write one (at least "
                                  f'backend: "{model.backend}") and deploy again')
            text = _with_model_operations(model, p.server_path(lib), lib.file.name)
            if text is not None:
                p.configs[model.config_path] = text
    p.unused = _no_longer_used(p)
    if not p.used:
        p.notes.append(f"no model here needs {namespace}'s ops" + (
            f": `opforge deploy --model-repository {shlex.quote(str(repository))} --remove {namespace}` takes the "
            "namespace out" if namespace in deployed else ", so nothing of them is deployed"))
    _check_server_paths(p)
    _check_writable(p)
    return p


def _no_longer_used(p: Plan) -> list[Path]:
    """The namespace's libraries that an earlier deploy copied (deploy names
    them) for models that are gone or need them no more, and that no config
    lists. Left in place, one built for an earlier release would sit beside
    this release's manifest, which does not describe it."""
    if p.namespace not in p.previous.get("namespaces", {}):
        return []  # files of that name were not put there by opforge
    listed = {Path(f).name for m in p.models for f in m.config.model_operations.op_library_filename}
    files = [p.repository / library_file(p.namespace, fw) for fw in FRAMEWORKS if fw not in p.used]
    return [f for f in files if f.is_file() and f.name not in listed]


def _elsewhere(model: Model, fw: str | None, namespace: str, release_ops: set[str], deployed: set[str]) -> list[str]:
    """Notes for ops this release has under another namespace, not deployed
    here: a model made with the wrong ONNX domain or torch namespace is left
    to other libraries, and fails to load unless one of them has the op."""
    ours = {split_name(op, fw)[1]: op for op in release_ops if split_name(op, fw)}
    notes = []
    for op in sorted(model.needs - release_ops):
        other, name = split_name(op, fw) or ("", "")
        if name in ours and other not in deployed:
            notes.append(f"model {model.name} needs {op}, which is left to {other}'s library; this release has "
                         f"{ours[name]} (namespace {namespace})")
    return notes


def _check_server_paths(p: Plan) -> None:
    share = p.server_wide()
    for file in [*share["preload"], *share["tensorrt_plugins"]]:
        path = f"{p.mount.rstrip('/')}/{file}"
        if SPLIT_BY_THE_SERVER.search(path):
            raise BadArgument(f"{path}: the server would split this path (it has a space, ':', ';' or ','), and "
                              "the PyTorch and TensorRT libraries are loaded server-wide by it: give --mount a "
                              "path without them, e.g. --mount /models")


def _check_writable(p: Plan) -> None:
    for folder in {p.repository, *(path.parent for path in p.configs)}:
        if not os.access(folder, os.W_OK):
            raise DeployError(f"{folder} is not writable here: nothing was changed")


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
    if not model.config.HasField("model_operations"):
        # The author's text (comments, field order, layout) is kept where appending the field gives
        # exactly this config: a config without model_operations, as most are before a first deploy.
        try:
            with open(model.config_path, newline="") as f:  # its own line endings (CRLF stays CRLF)
                text = f.read()
            eol = "\r\n" if "\r\n" in text else "\n"
            kept = text + (eol if text and not text.endswith("\n") else "") + \
                model_config.model_operations(wanted).replace("\n", eol)
            if model_config.parse(kept) == config:
                return kept
        except (OSError, text_format.ParseError):
            pass
    return model_config.to_text(config)


def launch_script(record: dict) -> str:
    """The server's launch file for every namespace in the deploy record."""
    mount = record["mount"]
    shares = record["namespaces"].values()
    at = lambda file: f"{mount.rstrip('/')}/{file}"
    preload = [at(f) for s in shares for f in s["preload"]]
    paths = list(dict.fromkeys(f"$BACKENDS/{b}" for s in shares for b in s["backends_on_library_path"]))
    plugins = [at(f) for s in shares for f in s["tensorrt_plugins"]]
    args = [f"--model-repository={mount}"]
    if plugins:
        args.append(f"--backend-config=tensorrt,plugins={';'.join(plugins)}")
    lines = ["#!/bin/sh",
             "# Written by `opforge deploy`: starts tritonserver on this model repository with the op",
             "# libraries its models need. ONNX Runtime and TensorFlow models name theirs in config.pbtxt.",
             "# TRITONSERVER and TRITON_BACKENDS override the server binary and its backends folder.",
             'TRITONSERVER="${TRITONSERVER:-tritonserver}"',
             'BACKENDS="${TRITON_BACKENDS:-/opt/tritonserver/backends}"']
    for ns, share in record["namespaces"].items():
        for model_fw, names in share["models"].items():  # a name with a newline must not become a command
            lines.append(f"# {ns} {model_fw}: {', '.join(n if n.isprintable() else json.dumps(n) for n in names)}")
    if paths:
        lines.append(f'export LD_LIBRARY_PATH="{":".join(paths)}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"')
    # Through env: LD_PRELOAD reaches the server alone, not this shell or a wrapper around it.
    pre = f'LD_PRELOAD={shlex.quote(":".join(preload))}"${{LD_PRELOAD:+:$LD_PRELOAD}}" ' if preload else ""
    lines.append(f'exec env {pre}"$TRITONSERVER" {" ".join(shlex.quote(a) for a in args)} "$@"')
    return "\n".join(lines) + "\n"


class _Writes:
    """File replacements that can all be undone: each new file is written
    beside its destination and renamed over it; the file it replaces is kept
    (hard-linked) until commit."""

    def __init__(self):
        self._undo: list[tuple[Path, Path | None]] = []  # destination, its previous content

    def put(self, dest: Path, fill) -> None:
        """Replace `dest` by what fill(tmp_path) writes."""
        tmp = dest.with_name(f".{dest.name}.opforge-new")
        try:
            fill(tmp)
            if dest.exists() and not any(d == dest for d, _ in self._undo):
                kept = dest.with_name(f".{dest.name}.opforge-old")
                kept.unlink(missing_ok=True)
                try:
                    os.link(dest, kept)
                except OSError:  # a file system without hard links
                    shutil.copy2(dest, kept)
                self._undo.append((dest, kept))
            elif not dest.exists():
                self._undo.append((dest, None))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def text(self, dest: Path, text: str, mode: int | None = None) -> None:
        def fill(tmp: Path):
            tmp.write_text(text)
            os.chmod(tmp, mode if mode is not None else
                     dest.stat().st_mode & 0o777 if dest.exists() else files.new_file_mode())
        self.put(dest, fill)

    def remove(self, dest: Path) -> None:
        """Take `dest` away (kept aside until commit)."""
        kept = dest.with_name(f".{dest.name}.opforge-old")
        kept.unlink(missing_ok=True)
        os.replace(dest, kept)
        self._undo.append((dest, kept))

    def commit(self) -> None:
        for _, kept in self._undo:
            if kept is not None:
                kept.unlink(missing_ok=True)

    def rollback(self) -> None:
        for dest, kept in reversed(self._undo):
            if kept is None:
                dest.unlink(missing_ok=True)
            else:
                os.replace(kept, dest)


def apply(p: Plan) -> list[str]:
    """Carry the plan out; what changed, one line each (empty: nothing to do).
    On any error every file is put back as it was, and the error raised."""
    changes = []
    writes = _Writes()
    folder = p.repository
    try:
        for file in p.unused:
            writes.remove(file)
            changes.append(f"removed {file}: no model here needs it any more")
        for fw in sorted(p.used):
            lib = p.libraries[fw]
            dest = folder / lib.file.name
            if not dest.is_file() or dest.read_bytes() != lib.file.read_bytes():
                writes.put(dest, lambda tmp, src=lib.file: shutil.copy2(src, tmp))
                changes.append(f"copied {lib.file.name} to {dest}")
        for path, text in sorted(p.configs.items()):
            path, backup = path.resolve(), backup_of(path)  # a symlinked config.pbtxt: its target is the config
            if not backup.exists():
                writes.put(backup, lambda tmp, src=path: shutil.copy2(src, tmp))
            writes.text(path, text)
            changes.append(f"{path.parent.name}: model_operations in config.pbtxt (backup: {backup.name})")
        # The release's manifest beside the copies: it names their ops for `opforge check`.
        if p.used:
            copy = manifest_copy(folder, p.namespace)
            if not copy.is_file() or copy.read_bytes() != p.manifest.read_bytes():
                writes.text(copy, p.manifest.read_text())
                changes.append(f"wrote {copy}")
        record = p.record()
        launch = folder / LAUNCH
        script = launch_script(record)
        if not launch.is_file() or launch.read_text() != script:
            writes.text(launch, script, mode=0o755 & ~files.umask())
            changes.append(f"wrote {launch}")
        text = json.dumps(record, indent=2) + "\n"
        if not (folder / RECORD).is_file() or (folder / RECORD).read_text() != text:
            writes.text(folder / RECORD, text)
            changes.append(f"wrote {folder / RECORD}")
    except BaseException:
        writes.rollback()
        raise
    writes.commit()
    return changes


@contextlib.contextmanager
def _taking_turns(repository: Path):
    """An exclusive flock on the repository folder itself (no lock file for
    Triton to see), waited for with a line saying so. flock is per machine:
    deploys from two hosts into one network share do not see each other's.
    Where the file system has no flock, the deploy says so and goes on."""
    try:
        fd = os.open(repository, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        fd = None  # not a folder: plan says so
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"opforge deploy: waiting for another deploy into {repository}", file=sys.stderr, flush=True)
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as e:
                print(f"opforge deploy: {repository} cannot be locked ({e.strerror or e}): a deploy into it "
                      "at the same time could lose this one's changes", file=sys.stderr, flush=True)
        yield
    finally:
        if fd is not None:
            os.close(fd)


def in_turn(repository: str, work):
    """(0, work()) run under the repository's lock; or, where it raised, the
    exit status, with the reason printed as one line."""
    try:
        with _taking_turns(Path(repository)):
            return 0, work()
    except DeployError as e:
        print(f"opforge deploy: {e}", file=sys.stderr)
        return 2 if isinstance(e, BadArgument) else 1, None
    except OSError as e:
        print(f"opforge deploy: {e}; every file was put back as it was", file=sys.stderr)
        return 1, None


def main(repository: str, libs: str, mount: str | None, preload_tensorflow: bool) -> int:
    def deploy() -> tuple[Plan, list[str]]:
        p = plan(Path(repository), Path(libs), mount, preload_tensorflow)
        return p, apply(p)

    status, done = in_turn(repository, deploy)
    if status:
        return status
    p, changes = done
    for m in p.models:
        print(f"{m.name} ({m.backend}): "
              + (f"needs {', '.join(sorted(m.needs))}" if m.needs else "no custom ops") + f" [{m.how}]")
    for note in p.notes:
        print(f"note: {note}")
    print("\n".join(changes) if changes else "nothing to change: the repository is already deployed")
    print(f"start the server with: {p.repository / LAUNCH}")
    return 0

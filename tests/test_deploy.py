"""`opforge deploy` on a repository with one model of each kind (made by the
real frameworks): what it reads from each model, what it writes, and that a
second run or a missing op changes nothing."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model_repository import DIST, copy_repository, deploy, make_repository, onnx_model
from opcases import OPS_DIR

from opforge import model_config

MOUNT = "/models"


@pytest.fixture(scope="module")
def source_repository(tmp_path_factory):
    if not (DIST / "manifest.json").is_file():
        pytest.skip(f"no {DIST}: run `make triton-23.05` first")
    return make_repository(tmp_path_factory.mktemp("source"))


@pytest.fixture
def repo(source_repository, tmp_path):
    return copy_repository(source_repository, tmp_path / "models")


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() + str(p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def launch_environment(repo: Path) -> dict:
    """What the launch file hands the server: its environment and arguments,
    recorded by a stand-in for the binary (TRITONSERVER)."""
    recorder = repo.parent / "record.py"
    recorder.write_text("#!" + sys.executable + "\nimport json, os, sys\n"
                        "print(json.dumps({'LD_PRELOAD': os.environ.get('LD_PRELOAD', ''),"
                        " 'LD_LIBRARY_PATH': os.environ.get('LD_LIBRARY_PATH', ''), 'args': sys.argv[1:]}))\n")
    recorder.chmod(0o755)
    proc = subprocess.run([str(repo / "opforge-tritonserver.sh")], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "TRITONSERVER": str(recorder),
                               "TRITON_BACKENDS": "/opt/tritonserver/backends"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_deploy_wires_every_model_and_nothing_else(repo, source_repository):
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((DIST / "manifest.json").read_text())
    libs = {c["framework"]: c["library"] for c in manifest["libraries"] if c["status"] == "built"}
    # What each model needs, read from its artifact.
    record = json.loads((repo / "opforge-deploy.json").read_text())
    assert record["models"]["onnx_clip"]["needs"] == ["opforge:Clip"]
    assert record["models"]["torch_ops"]["needs"] == ["opforge::clip", "opforge::modulo", "opforge::rms_norm"]
    assert record["models"]["tf_clip"]["needs"] == ["OpforgeClip"]
    assert record["models"]["plain"]["needs"] == []
    # ONNX Runtime and TF configs: model_operations under the mount, every other field as it was.
    for model, fw in (("onnx_clip", "onnxruntime"), ("tf_clip", "tensorflow")):
        before = model_config.read(source_repository / model / "config.pbtxt")
        after = model_config.read(repo / model / "config.pbtxt")
        assert list(after.model_operations.op_library_filename) == [f"{MOUNT}/{libs[fw]}"]
        after.ClearField("model_operations")
        assert after == before
        assert (repo / model / "config.pbtxt.opforge-backup").read_bytes() == \
            (source_repository / model / "config.pbtxt").read_bytes()
    for model in ("plain", "torch_ops"):  # no per-model route: untouched
        assert (repo / model / "config.pbtxt").read_bytes() == (source_repository / model / "config.pbtxt").read_bytes()
    # The libraries the models use, and only those, as files at the repository's root (Triton
    # takes every folder there for a model, hidden ones too).
    assert sorted(p.name for p in repo.iterdir() if p.is_file() and p.suffix == ".so") == sorted(
        libs[fw] for fw in ("onnxruntime", "tensorflow", "torch"))
    assert sorted(p.name for p in repo.iterdir() if p.is_dir()) == sorted(p.name for p in source_repository.iterdir())
    # The launch file: torch preloaded, with the PyTorch backend's libtorch on the path; TF not preloaded.
    env = launch_environment(repo)
    assert env["LD_PRELOAD"].split(":") == [f"{MOUNT}/{libs['torch']}"]
    assert env["LD_LIBRARY_PATH"].split(":")[0] == "/opt/tritonserver/backends/pytorch"
    assert env["args"] == [f"--model-repository={MOUNT}"]


def test_second_run_changes_nothing(repo):
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0, proc.stderr
    assert "nothing to change" in proc.stdout
    assert snapshot(repo) == before
    # A rebuild of the same libraries: only the manifest's copy changes, and deploy says it wrote it.
    rebuilt = repo.parent / "rebuilt"
    shutil.copytree(DIST, rebuilt)
    manifest = json.loads((rebuilt / "manifest.json").read_text())
    (rebuilt / "manifest.json").write_text(json.dumps({**manifest, "built_at": "2099-01-01T00:00:00Z"}))
    proc = deploy(repo, "--mount", MOUNT, libs=rebuilt)
    assert proc.returncode == 0 and "nothing to change" not in proc.stdout, proc.stdout + proc.stderr
    assert f"wrote {repo / 'opforge-manifest.opforge.json'}" in proc.stdout.splitlines(), proc.stdout


def test_a_library_no_model_needs_any_more_goes_unless_a_config_lists_it(repo):
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    launch = launch_environment(repo)
    # The TorchScript model goes; the ONNX one calls another library's op now, its config unchanged.
    shutil.rmtree(repo / "torch_ops")
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx", domain="ai.onnx.contrib")
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0, proc.stderr
    assert f"removed {repo / 'libopforge_torch.so'}: no model here needs it any more" in proc.stdout.splitlines()
    assert not (repo / "libopforge_torch.so").exists()
    # Triton would fail to load onnx_clip without the library its config lists.
    assert (repo / "libopforge_onnxruntime.so").is_file() and "removed" not in proc.stdout.replace(
        f"removed {repo / 'libopforge_torch.so'}", ""), proc.stdout
    assert (repo / "libopforge_tensorflow.so").is_file()
    assert launch["LD_PRELOAD"] and not launch_environment(repo)["LD_PRELOAD"]
    record = json.loads((repo / "opforge-deploy.json").read_text())
    assert record["namespaces"]["opforge"]["models"] == {"tensorflow": ["tf_clip"]}
    # A failed write puts the removed library back with everything else.
    shutil.rmtree(repo / "tf_clip")
    (repo / "onnx_clip" / "config.pbtxt").write_text('backend: "onnxruntime"\n')
    before = contents(repo)
    (repo / ".opforge-deploy.json.opforge-old").mkdir()  # the last write fails: where the record is set aside
    proc = deploy(repo, "--mount", MOUNT)
    (repo / ".opforge-deploy.json.opforge-old").rmdir()
    assert proc.returncode == 1 and contents(repo) == before, proc.stdout + proc.stderr
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "libopforge_tensorflow.so").exists() and not (repo / "libopforge_onnxruntime.so").exists()
    assert f"note: no model here needs opforge's ops: `opforge deploy --model-repository {repo} --remove opforge` " \
        "takes the namespace out" in proc.stdout.splitlines(), proc.stdout


def test_a_config_keeps_its_comments_and_layout_when_the_field_is_added(repo):
    config = repo / "onnx_clip" / "config.pbtxt"
    text = ("# served by the ranking team\n" + config.read_text() + "# no newline at the end").replace("\n", "\r\n")
    config.write_bytes(text.encode())
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    written = config.read_bytes().decode()
    assert written.startswith(text + "\r\n")  # the author's text as it was (CRLF too), the field after it
    assert "\n" not in written.replace("\r\n", "")
    assert list(model_config.read(config).model_operations.op_library_filename) == [
        f"{MOUNT}/libopforge_onnxruntime.so"]
    # With the field there, a new mount rewrites the config from the proto: comments go, the backup has them.
    assert deploy(repo, "--mount", "/elsewhere").returncode == 0
    assert list(model_config.read(config).model_operations.op_library_filename) == [
        "/elsewhere/libopforge_onnxruntime.so"]
    assert (repo / "onnx_clip" / "config.pbtxt.opforge-backup").read_bytes() == text.encode()


def test_new_mount_replaces_the_old_path_rather_than_adding_a_second_copy(repo):
    assert deploy(repo, "--mount", "/old").returncode == 0
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    ops = model_config.read(repo / "onnx_clip" / "config.pbtxt").model_operations.op_library_filename
    assert len(ops) == 1 and ops[0].startswith(f"{MOUNT}/")  # two copies: "Domain already set in registry"


def test_tensorflow_preload_only_when_asked(repo):
    assert deploy(repo, "--mount", MOUNT, "--preload-tensorflow").returncode == 0
    env = launch_environment(repo)
    assert any(p.endswith("libopforge_tensorflow.so") for p in env["LD_PRELOAD"].split(":"))
    assert "/opt/tritonserver/backends/tensorflow" in env["LD_LIBRARY_PATH"].split(":")


def test_missing_op_stops_with_one_line_and_writes_nothing(repo):
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx", op_type="Frobnicate")
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "onnx_clip" in lines[0] and "opforge:Frobnicate" in lines[0], proc.stderr
    assert snapshot(repo) == before


def test_a_misspelt_op_gets_the_nearest_op_of_the_release(repo):
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx", op_type="clip")
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 1 and "needs op opforge:clip" in proc.stderr
    assert proc.stderr.strip().endswith("did you mean opforge:Clip?"), proc.stderr


def test_an_op_of_this_release_under_another_domain_gets_a_note(repo):
    # A model made with the example's domain instead of this release's namespace.
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx", domain="myops", op_type="RmsNorm")
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0, proc.stderr
    assert "note: model onnx_clip needs myops:RmsNorm, which is left to myops's library; this release has " \
        "opforge:RmsNorm (namespace opforge)" in proc.stdout, proc.stdout


def test_a_tensorflow_op_of_the_release_without_its_library_is_refused(repo, tmp_path):
    folder = relabelled_release(tmp_path, "opforge")
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["libraries"]:
        if entry["framework"] == "tensorflow":
            entry.update(status="not built", reason="no TensorFlow here")
            (folder / entry.pop("library")).unlink()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT, libs=folder)
    assert proc.returncode == 1, proc.stdout
    assert "model tf_clip (tensorflow) needs op OpforgeClip" in proc.stderr
    assert "it has no tensorflow library" in proc.stderr
    assert snapshot(repo) == before


def test_bad_arguments_say_what_to_do(repo, tmp_path):
    proc = deploy(repo, libs=tmp_path)
    assert proc.returncode == 2 and "no manifest.json" in proc.stderr
    proc = deploy(repo, libs=tmp_path / "nowhere")
    assert proc.returncode == 2 and "nowhere: no such folder" in proc.stderr
    proc = deploy(repo, libs=OPS_DIR)
    assert proc.returncode == 2 and "is an ops folder: build it first" in proc.stderr
    proc = deploy(tmp_path / "nowhere")
    assert proc.returncode == 2 and "no such folder" in proc.stderr
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    proc = deploy(a_file)
    assert proc.returncode == 2 and f"--model-repository {a_file}: not a folder" in proc.stderr
    proc = deploy(repo, libs=a_file)
    assert proc.returncode == 2 and f"--libs {a_file}: not a folder" in proc.stderr


# --- What a failed or refused deploy leaves behind: the repository as it was.

def relabelled_release(tmp_path: Path, namespace: str, tensorrt: bool = False) -> Path:
    """dist/triton-23.05 relabelled as another namespace's release folder
    (libraries renamed, manifest rewritten with their sha256), with a
    TensorRT library when asked (a copy of another one: no TensorRT builds
    here). deploy reads manifests and copies files; it never loads a
    library, so the copies stand in for another opforge build here."""
    folder = tmp_path / f"{namespace}-triton-23.05"
    folder.mkdir()
    manifest = json.loads((DIST / "manifest.json").read_text())
    manifest["namespace"] = namespace
    if tensorrt:
        manifest["libraries"] = [e for e in manifest["libraries"] if e["framework"] != "tensorrt"] + [
            {"framework": "tensorrt", "status": "built", "library": "libopforge_tensorrt.so"}]
        shutil.copy(DIST / "libopforge_onnxruntime.so", folder / "libopforge_tensorrt.so")
    for entry in manifest["libraries"]:
        if entry["status"] == "built":
            entry["library"] = entry["library"].replace("libopforge_", f"lib{namespace}_")
            source = DIST / f"libopforge_{entry['framework']}.so"
            data = (source if source.is_file() else folder / f"libopforge_{entry['framework']}.so").read_bytes()
            (folder / entry["library"]).write_bytes(data)
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_a_write_that_fails_midway_puts_every_file_back(repo):
    # A folder where the launch file goes: the libraries and configs are written first, then this fails.
    (repo / "opforge-tritonserver.sh").mkdir()
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "put back" in lines[0], proc.stderr
    assert snapshot(repo) == before
    assert (repo / "opforge-tritonserver.sh").is_dir()  # and no file left beside it: snapshot has them all


def test_ops_of_other_libraries_are_left_to_them(repo):
    # A model of onnxruntime-extensions' domain, wired to its own library by hand.
    onnx_model(repo / "contrib" / "1" / "model.onnx", domain="ai.onnx.contrib", op_type="StringLower")
    (repo / "contrib" / "config.pbtxt").write_text(
        'name: "contrib"\nbackend: "onnxruntime"\n'
        'model_operations { op_library_filename: "/opt/ext/libortextensions.so" }\n')
    config_before = (repo / "contrib" / "config.pbtxt").read_bytes()
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "contrib" / "config.pbtxt").read_bytes() == config_before
    assert not (repo / "contrib" / "config.pbtxt.opforge-backup").exists()
    record = json.loads((repo / "opforge-deploy.json").read_text())
    assert record["models"]["contrib"]["needs"] == ["ai.onnx.contrib:StringLower"]
    assert "contrib" not in str(record["namespaces"]["opforge"]["models"])


def tf_graphdef_model(folder: Path, *ops: str) -> None:
    """A TensorFlow graphdef model whose graph calls `ops` (unregistered
    names: a GraphDef is a proto, TensorFlow only checks ops when it runs)."""
    from tensorflow.core.framework import graph_pb2

    graph = graph_pb2.GraphDef()
    for i, op in enumerate(ops):
        graph.node.add(name=f"n{i}", op=op)
    (folder / "1").mkdir(parents=True)
    (folder / "1" / "model.graphdef").write_bytes(graph.SerializeToString())
    (folder / "config.pbtxt").write_text(f'name: "{folder.name}"\nplatform: "tensorflow_graphdef"\n')


def test_deploys_into_one_repository_take_turns(repo):
    held = os.open(repo, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another deploy into this repository holds it
        proc = subprocess.Popen([sys.executable, "-m", "opforge", "deploy", "--model-repository", str(repo),
                                 "--libs", str(DIST), "--mount", MOUNT],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            said = ""
            while "waiting for another deploy" not in said:
                assert select.select([proc.stderr], [], [], 120)[0], "deploy neither waited nor said so"
                said = proc.stderr.readline()
                assert said, "deploy ended without waiting"
            time.sleep(1)
            assert proc.poll() is None and not (repo / "opforge-deploy.json").exists()
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
            out, err = proc.communicate(timeout=300)
    finally:
        os.close(held)
    assert proc.returncode == 0, err
    assert (repo / "opforge-deploy.json").is_file()


def test_a_tensorflow_op_named_like_the_namespace_is_not_claimed(repo, tmp_path):
    # Namespace regex: RegexClip is ours, TensorFlow Text's RegexSplitWithOffsets is not.
    regex = relabelled_release(tmp_path, "regex")
    tf_graphdef_model(repo / "text", "RegexSplitWithOffsets")
    tf_graphdef_model(repo / "both", "RegexClip", "RegexSplitWithOffsets")
    text_config = (repo / "text" / "config.pbtxt").read_bytes()
    proc = deploy(repo, "--mount", MOUNT, libs=regex)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stdout.splitlines() if line.startswith("note: ") and "RegexSplit" in line]
    assert len(notes) == 2 and all("opforge check" in n for n in notes), proc.stdout
    assert (repo / "text" / "config.pbtxt").read_bytes() == text_config
    both = model_config.read(repo / "both" / "config.pbtxt")
    assert list(both.model_operations.op_library_filename) == [f"{MOUNT}/libregex_tensorflow.so"]
    models = json.loads((repo / "opforge-deploy.json").read_text())["namespaces"]["regex"]["models"]
    assert "both" in models["tensorflow"] and "text" not in models["tensorflow"]


def test_two_namespaces_share_one_repository_and_one_launch_file(repo, tmp_path):
    myops = relabelled_release(tmp_path, "myops")
    onnx_model(repo / "onnx_scale" / "1" / "model.onnx", domain="myops", op_type="Clip")
    (repo / "onnx_scale" / "config.pbtxt").write_text('name: "onnx_scale"\nbackend: "onnxruntime"\n')
    # Each release refuses neither the other's models nor its launch-file entries.
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 0 and "note: model onnx_scale needs myops:Clip, which is left to myops's" in proc.stdout
    proc = deploy(repo, "--mount", MOUNT, libs=myops)
    assert proc.returncode == 0, proc.stderr
    assert "note:" not in proc.stdout  # opforge's models: its namespace is deployed here
    ops = lambda model: list(model_config.read(repo / model / "config.pbtxt").model_operations.op_library_filename)
    assert ops("onnx_clip") == [f"{MOUNT}/libopforge_onnxruntime.so"]
    assert ops("onnx_scale") == [f"{MOUNT}/libmyops_onnxruntime.so"]
    # opforge's TorchScript model still gets its preload after the second release's deploy.
    assert launch_environment(repo)["LD_PRELOAD"].split(":") == [f"{MOUNT}/libopforge_torch.so"]
    assert deploy(repo, "--mount", MOUNT).returncode == 0  # and the other way round
    assert ops("onnx_scale") == [f"{MOUNT}/libmyops_onnxruntime.so"]
    # Another mount for one namespace would strand the other's paths: refused, saying how to move them all.
    before = snapshot(repo)
    proc = deploy(repo, "--mount", "/elsewhere", libs=myops)
    assert proc.returncode == 1 and "--mount /models" in proc.stderr and "remove" in proc.stderr, proc.stderr
    assert snapshot(repo) == before
    assert deploy(repo, "--mount", MOUNT + "/", libs=myops).returncode == 0  # the same mount, spelled with a /
    (repo / "opforge-deploy.json").unlink()
    assert deploy(repo, "--mount", "/elsewhere").returncode == 0
    assert deploy(repo, "--mount", "/elsewhere", libs=myops).returncode == 0
    assert ops("onnx_scale") == ["/elsewhere/libmyops_onnxruntime.so"]
    assert launch_environment(repo)["LD_PRELOAD"].split(":") == ["/elsewhere/libopforge_torch.so"]


@pytest.mark.parametrize("mount", ["/my models", "/a:b", "/a;b", "/a,b", "models"])
def test_a_mount_the_server_would_split_or_misread_is_refused(repo, mount):
    before = snapshot(repo)
    proc = deploy(repo, "--mount", mount)
    assert proc.returncode == 2 and "--mount" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(repo) == before


def test_shell_characters_in_the_mount_reach_the_server_as_they_are(repo):
    mount = "/srv/$HOME/it's"
    assert deploy(repo, "--mount", mount).returncode == 0
    env = launch_environment(repo)
    assert env["LD_PRELOAD"].split(":") == [f"{mount}/libopforge_torch.so"]
    assert env["args"] == [f"--model-repository={mount}"]
    # and `opforge check` reads the launch file as the shell does
    check = subprocess.run([sys.executable, "-m", "opforge", "check", "--model-repository", str(repo)],
                           capture_output=True, text=True)
    assert "no such library" not in check.stdout + check.stderr, check.stdout + check.stderr


def test_a_model_name_cannot_become_a_command_in_the_launch_file(repo, monkeypatch):
    monkeypatch.chdir(repo.parent)  # where a command in the launch file would leave its file
    evil = "torch_ops\ntouch PWNED"
    (repo / "torch_ops").rename(repo / evil)
    config = repo / evil / "config.pbtxt"
    config.write_text(config.read_text().replace('name: "torch_ops"', 'name: "torch_ops\\ntouch PWNED"'))
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    launch_environment(repo)
    assert not (repo.parent / "PWNED").exists()
    assert '"torch_ops\\ntouch PWNED"' in (repo / "opforge-tritonserver.sh").read_text()


@pytest.mark.parametrize("record", ["[]", '"x"', '{"mount": "/models", "namespaces": {"x": {}}}',
                                    '{"libraries": {"torch": 5}}'])
def test_a_deploy_record_that_is_not_one_stops_with_one_line(repo, record):
    (repo / "opforge-deploy.json").write_text(record)
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 1 and "is not a deploy record" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(repo) == before


def test_a_library_that_does_not_match_its_manifest_is_refused(repo, tmp_path):
    libs = tmp_path / "release"
    shutil.copytree(DIST, libs)
    with open(libs / "libopforge_onnxruntime.so", "r+b") as f:
        f.truncate(4096)
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT, libs=libs)
    assert proc.returncode == 1 and "sha256" in proc.stderr, proc.stderr
    assert snapshot(repo) == before
    (libs / "manifest.json").write_text("{}")
    proc = deploy(repo, "--mount", MOUNT, libs=libs)
    assert proc.returncode == 1 and "not an opforge manifest" in proc.stderr, proc.stderr


@pytest.mark.parametrize("model,file", [("onnx_clip", "1/model.onnx"), ("torch_ops", "1/model.pt"),
                                        ("tf_clip", "1/model.savedmodel/saved_model.pb")])
def test_a_model_file_that_does_not_parse_stops_with_one_line(repo, model, file):
    (repo / model / file).write_bytes(b"\x08\xff not a model")
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"model {model}" in lines[0] and "cannot be read" in lines[0], proc.stderr
    assert snapshot(repo) == before


def test_a_version_the_server_does_not_load_is_not_read(repo):
    """version_policy's default serves the latest version only: a broken
    older one stops nothing; served with `all`, it stops the deploy."""
    (repo / "onnx_clip" / "0").mkdir()
    (repo / "onnx_clip" / "0" / "model.onnx").write_text("not ONNX")
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    config = repo / "onnx_clip" / "config.pbtxt"
    config.write_text(config.read_text() + "version_policy { all { } }\n")
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 1 and "onnx_clip/0/model.onnx cannot be read" in proc.stderr, proc.stderr


def test_models_triton_completes_or_finds_in_a_folder(repo):
    # No config.pbtxt: Triton completes one, without model_operations, so the model would fail.
    (repo / "onnx_clip" / "config.pbtxt").unlink()
    before = snapshot(repo)
    proc = deploy(repo, "--mount", MOUNT)
    assert proc.returncode == 1 and "onnx_clip" in proc.stderr and "no config.pbtxt" in proc.stderr, proc.stderr
    assert snapshot(repo) == before
    # Triton's folder form of an ONNX model (model.onnx/model.onnx) is read like the file.
    (repo / "onnx_clip" / "config.pbtxt").write_text('name: "onnx_clip"\nbackend: "onnxruntime"\n')
    model = repo / "onnx_clip" / "1" / "model.onnx"
    data = model.read_bytes()
    model.unlink()
    model.mkdir()
    (model / "model.onnx").write_bytes(data)
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    record = json.loads((repo / "opforge-deploy.json").read_text())
    assert record["models"]["onnx_clip"]["needs"] == ["opforge:Clip"]


def test_files_written_are_readable_by_the_server(repo):
    """New files get the mode open() gives them (mkstemp's is 0600)."""
    from opforge.files import new_file_mode

    assert deploy(repo, "--mount", MOUNT).returncode == 0
    for name in ("opforge-deploy.json", "opforge-manifest.opforge.json"):
        assert (repo / name).stat().st_mode & 0o777 == new_file_mode(), name
    assert (repo / "libopforge_onnxruntime.so").stat().st_mode == (DIST / "libopforge_onnxruntime.so").stat().st_mode


def test_tensorrt_models_get_their_plugins_through_the_backend_config(repo, tmp_path):
    libs = relabelled_release(tmp_path, "opforge", tensorrt=True)
    engine = repo / "trt_clip" / "1" / "model.plan"
    engine.parent.mkdir(parents=True)
    engine.write_bytes(b"\x00engine\x00OpforgeClip\x001\x00opforge\x00")  # a plan names its plugins
    (repo / "trt_clip" / "config.pbtxt").write_text('name: "trt_clip"\nplatform: "tensorrt_plan"\n')
    proc = deploy(repo, "--mount", MOUNT, libs=libs)
    assert proc.returncode == 0, proc.stderr
    record = json.loads((repo / "opforge-deploy.json").read_text())
    assert record["models"]["trt_clip"]["needs"] == ["OpforgeClip"]
    assert (repo / "libopforge_tensorrt.so").is_file()
    env = launch_environment(repo)
    assert f"--backend-config=tensorrt,plugins={MOUNT}/libopforge_tensorrt.so" in env["args"]
    assert env["LD_PRELOAD"].split(":") == [f"{MOUNT}/libopforge_torch.so"]  # TensorRT: not preloaded as well


def remove(repo: Path, namespace: str, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opforge", "deploy", "--model-repository", str(repo),
                           "--remove", namespace, *extra], capture_output=True, text=True, timeout=300)


def contents(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def stop_needing_opforge(*repos: Path) -> None:
    """The models change: the ONNX one calls another library's op instead, the TorchScript and TF ones go."""
    for repo in repos:
        onnx_model(repo / "onnx_clip" / "1" / "model.onnx", domain="ai.onnx.contrib")
        shutil.rmtree(repo / "torch_ops")
        shutil.rmtree(repo / "tf_clip")


def test_remove_is_refused_while_a_model_needs_the_ops_then_puts_the_repository_back(repo, source_repository,
                                                                                     tmp_path):
    expected = copy_repository(source_repository, tmp_path / "expected")
    for r in (repo, expected):  # an author's CRLF config comes back byte for byte
        config = r / "onnx_clip" / "config.pbtxt"
        config.write_bytes(config.read_bytes().replace(b"\n", b"\r\n"))
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    before = snapshot(repo)
    proc = remove(repo, "opforge")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "opforge deploy: model onnx_clip (onnxruntime) needs opforge:Clip (2 more models need opforge's ops "
        "too): take opforge's ops out of the models that use them, or those models out of the repository, first; "
        "nothing was changed"]
    assert snapshot(repo) == before
    stop_needing_opforge(repo, expected)
    proc = remove(repo, "opforge")
    assert proc.returncode == 0, proc.stderr
    assert "onnx_clip: opforge's library out of model_operations in config.pbtxt (restored from " \
           "config.pbtxt.opforge-backup)" in proc.stdout.splitlines(), proc.stdout
    # Byte for byte the repository before the deploy: configs, no backups, libraries, manifest, record or launch file.
    assert contents(repo) == contents(expected)
    proc = remove(repo, "opforge")
    assert proc.returncode == 0 and proc.stdout.strip() == (
        f"nothing to remove: {repo} has no ops of namespace opforge (nothing is deployed there)"), proc.stdout


def test_remove_leaves_the_other_namespaces_wired(repo, tmp_path):
    myops = relabelled_release(tmp_path, "myops")
    onnx_model(repo / "onnx_scale" / "1" / "model.onnx", domain="myops", op_type="Clip")
    (repo / "onnx_scale" / "config.pbtxt").write_text('name: "onnx_scale"\nbackend: "onnxruntime"\n')
    # A model of opforge's whose config also names myops's library, by hand.
    onnx_model(repo / "both" / "1" / "model.onnx")
    (repo / "both" / "config.pbtxt").write_text(
        'name: "both"\nbackend: "onnxruntime"\nmodel_operations { op_library_filename: '
        f'"{MOUNT}/libmyops_onnxruntime.so" }}\n')
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    assert deploy(repo, "--mount", MOUNT, libs=myops).returncode == 0
    clip_config = (repo / "onnx_clip" / "config.pbtxt").read_bytes()
    proc = remove(repo, "myops")
    assert proc.returncode == 1 and "model onnx_scale (onnxruntime) needs myops:Clip" in proc.stderr, proc.stderr
    shutil.rmtree(repo / "onnx_scale")
    proc = remove(repo, "myops")
    assert proc.returncode == 0, proc.stderr
    assert not list(repo.glob("*myops*")), list(repo.glob("*myops*"))
    assert {"libopforge_onnxruntime.so", "libopforge_torch.so", "opforge-manifest.opforge.json"} <= \
        {p.name for p in repo.iterdir()}
    assert (repo / "onnx_clip" / "config.pbtxt").read_bytes() == clip_config
    assert list(model_config.read(repo / "both" / "config.pbtxt").model_operations.op_library_filename) == [
        f"{MOUNT}/libopforge_onnxruntime.so"]
    assert (repo / "both" / "config.pbtxt.opforge-backup").is_file()  # the author's config had myops's library
    assert list(json.loads((repo / "opforge-deploy.json").read_text())["namespaces"]) == ["opforge"]
    assert launch_environment(repo)["LD_PRELOAD"].split(":") == [f"{MOUNT}/libopforge_torch.so"]
    proc = remove(repo, "myopz")
    assert proc.returncode == 0 and "(deployed there: opforge)" in proc.stdout, proc.stdout


def test_remove_keeps_what_the_author_wrote_after_the_deploy(repo):
    config = repo / "onnx_clip" / "config.pbtxt"
    original = config.read_text()
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    appended = model_config.model_operations([f"{MOUNT}/libopforge_onnxruntime.so"])
    edited = original.replace("count: 1", "count: 2")
    config.write_text(edited + appended)
    stop_needing_opforge(repo)
    proc = remove(repo, "opforge")
    assert proc.returncode == 0, proc.stderr
    assert config.read_text() == edited
    assert (repo / "onnx_clip" / "config.pbtxt.opforge-backup").read_text() == original  # still the one before


def test_a_remove_that_fails_midway_puts_every_file_back(repo):
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    stop_needing_opforge(repo)
    # Where the record is set aside until the end: the config, libraries and launch file are done first.
    (repo / ".opforge-deploy.json.opforge-old").mkdir()
    before = snapshot(repo)
    proc = remove(repo, "opforge")
    assert proc.returncode == 1 and "put back" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize("args", [("--remove", "../x"), ("--remove", "Opforge"),
                                  ("--remove", "opforge", "--libs", str(DIST)),
                                  ("--remove", "opforge", "--mount", "/elsewhere"), ()])
def test_remove_arguments_that_cannot_work_change_nothing(repo, args):
    assert deploy(repo, "--mount", MOUNT).returncode == 0
    before = snapshot(repo)
    proc = subprocess.run([sys.executable, "-m", "opforge", "deploy", "--model-repository", str(repo), *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert snapshot(repo) == before

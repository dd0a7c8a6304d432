"""`opforge check --release` reads a TensorFlow model with the release's own
TensorFlow (the toolchain `opforge build --release` provisioned here): an op
that TensorFlow does not register fails the model in the server, and so does
a release without a TensorFlow backend."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import release_python, library, require_framework, results_of, run_python
from opcases import REPO
from test_check import check, problems


SAVE = r"""
import json, sys, tensorflow as tf

class Model(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def __call__(self, x):
        y = tf.clip_by_value(x, -1.0, 1.0)
        if sys.argv[2] == "newer":  # an op TensorFlow 2.12 does not have
            y = tf.raw_ops.SegmentMaxV2(data=y, segment_ids=tf.zeros_like(y, dtype=tf.int32), num_segments=1)
        return y

m = Model()
tf.saved_model.save(m, sys.argv[1], signatures=m.__call__)
print(json.dumps({"ok": True}))
"""

LOAD = r"""
import json, sys, tensorflow as tf
try:
    tf.saved_model.load(sys.argv[1])
    print(json.dumps({"version": tf.__version__, "error": ""}))
except Exception as e:
    print(json.dumps({"version": tf.__version__, "error": str(e)}))
"""

LOAD_LIBRARY = r"""
import json, sys, tensorflow as tf
try:
    tf.load_op_library(sys.argv[1])
    print(json.dumps({"version": tf.__version__, "error": ""}))
except Exception as e:
    print(json.dumps({"version": tf.__version__, "error": str(e)}))
"""

CONFIG = 'name: "{name}"\nplatform: "tensorflow_savedmodel"\nmax_batch_size: 0\n'


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    require_framework("tensorflow")
    repo = tmp_path_factory.mktemp("tf") / "models"
    for name, kind in (("newer_op", "newer"), ("plain", "plain")):
        (repo / name / "1").mkdir(parents=True)
        (repo / name / "config.pbtxt").write_text(CONFIG.format(name=name))
        results_of(run_python(SAVE, str(repo / name / "1" / "model.savedmodel"), kind))
    return repo


def test_an_op_the_release_tensorflow_lacks_is_a_problem(repo):
    python = release_python("tensorflow")
    for name, error in (("newer_op", "Op type not registered 'SegmentMaxV2'"), ("plain", "")):
        got = results_of(run_python(LOAD, str(repo / name / "1" / "model.savedmodel"), python=python))
        assert got["version"] == "2.12.0" and (error in got["error"] if error else got["error"] == ""), got
    lines = problems(check("--model-repository", repo, "--release", "23.05"))
    assert lines == ["model newer_op: newer_op/1/model.savedmodel uses TensorFlow op SegmentMaxV2, which TensorFlow "
                     "2.12.0 (Triton 23.05) does not register (the model fails to load: Op type not registered "
                     "'SegmentMaxV2')"], lines


def test_a_release_without_tensorflow_fails_every_tensorflow_model(repo):
    lines = problems(check("--model-repository", repo, "--release", "25.10"))
    assert lines == [f"model {name}: Triton 25.10 has no TensorFlow backend, so the model cannot load (TensorFlow "
                     "backend dropped from 25.03 (last built in 25.02))" for name in ("newer_op", "plain")], lines


def test_without_the_release_tensorflow_here_the_check_says_so(repo, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "opforge", "check", "--model-repository", str(repo), "--release",
                           "23.05"], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "empty-cache")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("note: the TensorFlow ops of newer_op, plain: not checked against Triton 23.05's TensorFlow 2.12.0 "
            "(`opforge build --release 23.05` provisions it here)") in proc.stderr.splitlines(), proc.stderr


def test_a_library_the_release_tensorflow_does_not_load_is_a_problem(repo, tmp_path):
    """The library `pip install .` built here (against this TensorFlow) in a
    model's model_operations: TensorFlow 2.12 does not load it, so the model
    fails in Triton 23.05; the release folder's library loads."""
    python = release_python("tensorflow")
    dist = REPO / "dist" / "triton-23.05" / "libopforge_tensorflow.so"
    if not dist.is_file():
        pytest.skip(f"no {dist}: run `make triton-23.05` first")
    local = library("tensorflow")
    said = results_of(run_python(LOAD_LIBRARY, local, python=python))
    assert said["version"] == "2.12.0" and "undefined symbol" in said["error"], said
    models = tmp_path / "models"
    shutil.copytree(repo / "plain", models / "plain")
    config = models / "plain" / "config.pbtxt"
    for lib, expected in ((local, 1), (dist, 0)):
        config.write_text(CONFIG.format(name="plain") + f'model_operations {{ op_library_filename: "{lib}" }}\n')
        proc = check("--model-repository", models, "--release", "23.05")
        lines = proc.stdout.strip().splitlines() if proc.returncode == 1 else []
        assert len([line for line in lines if "does not load in TensorFlow 2.12.0" in line]) == expected, \
            proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the release's library: nothing to say
    config.write_text(CONFIG.format(name="plain") + f'model_operations {{ op_library_filename: "{local}" }}\n')
    (line,) = problems(check("--model-repository", models, "--release", "23.05"))
    assert line.startswith(f"model plain: {Path(local).resolve()} does not load in TensorFlow 2.12.0 (Triton 23.05), "
                           "so the model fails to load: NotFoundError: ") and "undefined symbol" in line, line


def test_a_preloaded_library_the_release_tensorflow_does_not_load_is_a_problem():
    """Preloaded server-wide (deploy --preload-tensorflow), the library built
    here takes a process of TensorFlow 2.12 down before main (it is bound at
    load: an undefined symbol ends it, exit 127), so `opforge check` names
    it; the release folder's library starts and is not named."""
    from opforge import cuda_toolkit

    python = release_python("tensorflow")
    dist = REPO / "dist" / "triton-23.05" / "libopforge_tensorflow.so"
    if not dist.is_file():
        pytest.skip(f"no {dist}: run `make triton-23.05` first")
    local = Path(library("tensorflow")).resolve()
    framework_dir = results_of(run_python("import json, os, tensorflow as tf; "
                                          "print(json.dumps({'dir': os.path.dirname(tf.__file__)}))",
                                          python=python))["dir"]
    for lib, rc in ((local, 127), (dist, 0)):  # the server's preload, in a process of the release's TensorFlow
        env = cuda_toolkit.with_cached_runtimes(dict(os.environ, LD_PRELOAD=str(lib)))
        env["LD_LIBRARY_PATH"] = framework_dir + os.pathsep + env.get("LD_LIBRARY_PATH", "")
        proc = subprocess.run([python, "-c", "print('started')"], capture_output=True, text=True, timeout=120,
                              env=env)
        assert proc.returncode == rc and ("symbol lookup error" in proc.stderr if rc else
                                          proc.stdout == "started\n"), (lib, proc.returncode, proc.stderr[-2000:])
    lines = [line for line in problems(check(local, "--release", "23.05")) if "TensorFlow 2.12.0" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{local}: does not load in TensorFlow 2.12.0 (Triton 23.05): "
                                                   "NotFoundError: "), lines
    assert lines[0].endswith("; preloaded server-wide, it takes tritonserver down (the loader ends the process at "
                             "the undefined symbol: symbol lookup error, exit 127) (build it against TensorFlow "
                             "2.12.0: for opforge's ops, opforge build --release 23.05)"), lines
    proc = check(dist, "--release", "23.05")
    assert "TensorFlow 2.12.0" not in proc.stdout, proc.stdout + proc.stderr


def test_a_tensorflow_preload_in_a_release_without_tensorflow_is_a_problem():
    """Triton 25.10 has no TensorFlow backend, so no libtensorflow_framework:
    a preload that needs it ends the process (exit 127), here as there."""
    from opforge import cuda_toolkit

    local = Path(library("tensorflow")).resolve()
    env = dict(os.environ, LD_PRELOAD=str(local))
    env.pop("LD_LIBRARY_PATH", None)
    env = cuda_toolkit.with_cached_runtimes(env)  # only libtensorflow_framework is missing, as in 25.10
    proc = subprocess.run(["/bin/true"], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 127 and "libtensorflow_framework.so.2: cannot open shared object file" in proc.stderr, \
        (proc.returncode, proc.stderr)
    lines = [line for line in problems(check(local, "--release", "25.10")) if "TensorFlow" in line]
    assert lines == [f"{local}: preloaded server-wide, but Triton 25.10 has no TensorFlow backend (TensorFlow "
                     "backend dropped from 25.03 (last built in 25.02)): without the libtensorflow_framework it "
                     "needs, the loader ends the server at the preload (error while loading shared libraries, exit "
                     "127)"], lines

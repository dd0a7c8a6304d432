"""The tritonserver test harness (tests/tritonserver.py) against the real
server from nvidia-pytriton: a python model loads and answers, and the places
in a model repository that Triton does or does not take for models.

Each test starts one or two servers (~4-5 s each on 2 cores); the first test
of a fresh machine also builds the server venv (~25 s, needs PyPI)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tritonserver as ts

STARTUP = 60  # s; a server with a python model is live in ~1.5 s here


@pytest.fixture(scope="module", autouse=True)
def server_venv():
    try:
        return ts.server_python()
    except ts.ServerUnavailable as e:
        pytest.skip(f"no tritonserver: {ts.PYTRITON} could not be installed into "
                    f"{ts.venv_dir()}: {e}")


def junk(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF not really a library")


def errors_and_warnings(log: str) -> list[str]:
    """The server's E and W lines, less the CUDA noise of a CPU-only machine."""
    noise = ("pinned_memory_manager", "CudaDriverHelper", "DCGM unable to start")
    return [line for line in log.splitlines()
            if line[:1] in ("E", "W") and line[1:2].isdigit() and not any(n in line for n in noise)]


def test_python_model_is_ready_and_answers(tmp_path, server_venv):
    ts.write_python_double_model(tmp_path)
    with ts.running_server(tmp_path, startup_timeout=STARTUP) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.models() == [{"name": "double", "version": "1", "state": "READY",
                                    "reason": ""}]
        out = server.infer("double", {"x": np.array([1, 2, 3], np.float32)}, ["y"])
        assert out["y"].dtype == np.float32
        assert out["y"].tolist() == [2.0, 4.0, 6.0]
        # the stub runs the server venv's Python and numpy (the venv's bin/ is first on PATH)
        venv = server_venv.parent.parent
        stub_env = [line for line in server.log().splitlines() if line.startswith("opforge-stub-env")]
        assert stub_env, server.log()[-3000:]
        _, executable, prefix, numpy_version = stub_env[0].split()
        assert prefix == str(venv) and executable.startswith(str(venv / "bin"))
        assert numpy_version.startswith("1.")
        assert errors_and_warnings(server.log()) == []
    assert server.returncode == 0
    assert "successfully unloaded 'double' version 1" in server.log()


def test_early_exit_raises_with_exit_code_and_log(tmp_path):
    with pytest.raises(ts.ServerExited) as info:
        with ts.running_server(tmp_path, extra_args=["--no-such-option"], startup_timeout=STARTUP):
            pass
    assert info.value.returncode != 0
    assert "no-such-option" in info.value.log


def test_plain_files_are_ignored_silently(tmp_path):
    """A .so file at the root, in a model's folder and in a folder of a version
    folder: no model, no log line, even with Triton's --exit-on-error=true."""
    ts.write_python_double_model(tmp_path)
    junk(tmp_path / "libfoo.so")
    junk(tmp_path / "double" / "libfoo.so")
    junk(tmp_path / "double" / "1" / "opforge" / "libfoo.so")
    with ts.running_server(tmp_path, extra_args=["--exit-on-error=true"],
                           startup_timeout=STARTUP) as server:
        assert server.models() == [{"name": "double", "version": "1", "state": "READY",
                                    "reason": ""}]
        log = server.log()
    assert errors_and_warnings(log) == []
    assert "libfoo" not in log
    assert "'opforge'" not in log  # (the venv's path has an opforge folder in it)


@pytest.mark.parametrize("folder", ["opforge", ".opforge"])
def test_folder_inside_a_model_folder_is_a_warning(tmp_path, folder):
    """<model>/opforge/ is not a version: one warning, the model is READY, and
    the server stays up even with --exit-on-error=true."""
    ts.write_python_double_model(tmp_path)
    junk(tmp_path / "double" / folder / "libfoo.so")
    with ts.running_server(tmp_path, extra_args=["--exit-on-error=true"],
                           startup_timeout=STARTUP) as server:
        assert server.models() == [{"name": "double", "version": "1", "state": "READY",
                                    "reason": ""}]
        log = server.log()
    problems = errors_and_warnings(log)
    assert len(problems) == 1, problems
    assert problems[0].startswith("W")
    assert (f"model_lifecycle.cc:111] \"ignore version directory '{folder}' which fails to "
            "convert to integral number\"") in problems[0]


def test_hidden_folder_at_root_is_taken_for_a_model(tmp_path):
    """<repo>/.opforge/ is NOT ignored: Triton tries it as a model. It is not in
    the index, but the load fails, and with --exit-on-error=true (Triton's
    default) the server exits with 1."""
    ts.write_python_double_model(tmp_path)
    junk(tmp_path / ".opforge" / "libfoo.so")
    with ts.running_server(tmp_path, startup_timeout=STARTUP) as server:  # --exit-on-error=false
        assert server.models() == [{"name": "double", "version": "1", "state": "READY",
                                    "reason": ""}]
        log = server.log()
    assert ("model_repository_manager.cc:724] \"failed to load model '.opforge': at least one "
            "version must be available under the version policy of model '.opforge'\"") in log
    assert re.search(r"^\| \.opforge +\| - +\| Not loaded: No model version was found +\|$", log, re.M)
    assert 'tritonserver.cc:2607] "Internal: failed to load all models"' in log

    rc, log = ts.start_and_wait_exit(tmp_path, extra_args=["--exit-on-error=true"], timeout=STARTUP)
    assert rc == 1, log[-3000:]
    assert "failed to load model '.opforge'" in log


def test_folder_at_root_is_taken_for_a_model(tmp_path):
    ts.write_python_double_model(tmp_path)
    junk(tmp_path / "opforge" / "libfoo.so")
    with ts.running_server(tmp_path, startup_timeout=STARTUP) as server:
        assert server.models() == [
            {"name": "double", "version": "1", "state": "READY", "reason": ""},
            {"name": "opforge", "version": "", "state": "", "reason": ""},  # a bare {"name"}
        ]
        log = server.log()
    assert ("model_repository_manager.cc:1460] \"Poll failed for model directory 'opforge': "
            "Invalid model name: Could not determine backend for model 'opforge' with no backend "
            "in model configuration. Expected model name of the form 'model.<backend_name>'.\"") in log

"""`opforge check`: every planted problem is found, named with both
libraries and the op or symbol, with exit 1; a clean set exits 0."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import library, require_framework
from model_repository import DIST, copy_repository, deployed_repository

from opforge import model_config


def check(*args):
    return subprocess.run([sys.executable, "-m", "opforge", "check", *map(str, args)], capture_output=True,
                           text=True, timeout=600)


def problems(proc) -> list[str]:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return proc.stdout.strip().splitlines()


def compile_so(tmp_path, name, code, *flags):
    src = tmp_path / f"{name}.c"
    src.write_text(code)
    out = tmp_path / f"lib{name}.so"
    proc = subprocess.run(["cc", "-shared", "-fPIC", "-o", str(out), str(src), *flags], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    return deployed_repository(tmp_path_factory.mktemp("repo"))


def test_clean_deployment_exits_0(deployed):
    proc = check("--model-repository", deployed, "--launch", deployed / "opforge-tritonserver.sh",
                 "--release", "23.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no problems" in proc.stdout


def test_one_torch_namespace_in_two_preloaded_libraries(tmp_path):
    require_framework("torch")
    copy = tmp_path / "libteam_b_torch.so"
    shutil.copy(library("torch"), copy)
    (line,) = problems(check(library("torch"), copy))
    assert "torch namespace opforge" in line and library("torch") in line and str(copy) in line
    assert "aborts" in line
    # the same file twice is loaded once: harmless
    assert check(library("torch"), library("torch")).returncode == 0


def test_one_tensorflow_op_in_two_libraries(tmp_path):
    require_framework("tensorflow")
    copy = tmp_path / "libteam_b_tensorflow.so"
    shutil.copy(library("tensorflow"), copy)
    lines = problems(check(library("tensorflow"), copy))
    assert {line.split()[2] for line in lines} == {"OpforgeClip", "OpforgeZeroOut", "OpforgeModulo", "OpforgeRmsNorm"}
    assert all(library("tensorflow") in line and str(copy) in line for line in lines)


def with_op_libraries(config_path: Path, *extra) -> None:
    """The model's own op library (as deploy wrote it) plus `extra`."""
    config = model_config.read(config_path)
    config.model_operations.op_library_filename.extend(map(str, extra))
    config_path.write_text(model_config.to_text(config))


def test_one_onnxruntime_domain_twice_in_one_model(deployed, tmp_path):
    repo = copy_repository(deployed, tmp_path / "models")
    config = repo / "onnx_clip" / "config.pbtxt"
    original = config.read_text()
    lib = repo / "libopforge_onnxruntime.so"
    copy = repo / "libteam_b_onnxruntime.so"
    shutil.copy(lib, copy)
    with_op_libraries(config, copy)
    (line,) = problems(check("--model-repository", repo))
    assert "model onnx_clip" in line and str(lib) in line and str(copy) in line and "Domain already set" in line
    # Two different builds with one domain: ONNX Runtime itself says so.
    require_framework("onnxruntime")
    config.write_text(original)
    with_op_libraries(config, library("onnxruntime"))
    (line,) = problems(check("--model-repository", repo))
    assert "model onnx_clip" in line and "Domain already set in registry" in line, line


def test_models_missing_their_library(deployed, tmp_path):
    repo = copy_repository(deployed, tmp_path / "models")
    backup = repo / "onnx_clip" / "config.pbtxt.opforge-backup"
    shutil.copy(backup, repo / "onnx_clip" / "config.pbtxt")  # as before deploy: no model_operations
    (repo / "opforge-tritonserver.sh").unlink()  # and no launch file: no torch preload
    lines = problems(check("--model-repository", repo))
    assert any("model onnx_clip" in line and "opforge:Clip" in line and "model_operations" in line for line in lines)
    assert any("model torch_ops" in line and "Unknown builtin op: opforge::clip" in line for line in lines)


def test_a_misspelt_op_gets_the_nearest_name_the_library_provides(deployed, tmp_path):
    from model_repository import onnx_model

    repo = copy_repository(deployed, tmp_path / "models")
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx", op_type="Clipp")
    assert problems(check("--model-repository", repo)) == [
        "model onnx_clip: needs opforge:Clipp, which its model_operations do not provide (the model fails to "
        "load); did you mean opforge:Clip?"]
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx", op_type="Softmax2")  # nothing near: no guess
    assert problems(check("--model-repository", repo))[0].endswith("(the model fails to load)")


MISSPELT_TORCHSCRIPT = r'''
import sys, torch
torch.ops.load_library(sys.argv[1])
# A real call to opforge::clipp: a fragment of the namespace defines it while the model is saved.
fragment = torch.library.Library("opforge", "FRAGMENT")
fragment.define("clipp(Tensor x, float lo, float hi) -> Tensor")

class Model(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.opforge.clipp(x, -1.0, 1.0)

torch.jit.save(torch.jit.script(Model()), sys.argv[2])
'''


def test_a_misspelt_torchscript_op_gets_the_nearest_name_the_preloads_provide(deployed, tmp_path):
    repo = copy_repository(deployed, tmp_path / "models")
    script = tmp_path / "save.py"  # TorchScript compiles from source text: from a file, not `python -c`
    script.write_text(MISSPELT_TORCHSCRIPT)
    saved = subprocess.run([sys.executable, str(script), library("torch"), str(repo / "torch_ops" / "1" / "model.pt")],
                           capture_output=True, text=True, timeout=300)
    assert saved.returncode == 0, saved.stderr
    lines = problems(check("--model-repository", repo))
    assert [line for line in lines if "opforge::clipp" in line] == [
        "model torch_ops: needs opforge::clipp, which no preloaded library registers (the model fails: Unknown "
        "builtin op: opforge::clipp); did you mean opforge::clip?"], lines


def test_interposed_symbol_and_libpython_on_the_torch_route(tmp_path):
    a = compile_so(tmp_path, "team_a", "int shared_helper(void) { return 1; }")
    b = compile_so(tmp_path, "team_b", "int shared_helper(void) { return 2; }")
    (line,) = problems(check(a, b))
    assert "symbol shared_helper" in line and str(a) in line and str(b) in line
    torch = require_framework("torch")
    torch_lib = Path(torch.__file__).parent / "lib"
    py = compile_so(tmp_path, "needs_python", "int f(void) { return 0; }", "-Wl,--no-as-needed",
                    f"-L{torch_lib}", "-ltorch_python", "-ltorch_cpu", "-lc10")
    lines = problems(check(py))
    assert any(str(py) in line and "libtorch_python" in line for line in lines), lines


def test_a_library_that_crashes_when_loaded_is_said_to_crash(tmp_path):
    """Its names are read by loading it in a child interpreter: the child's
    death by a signal is named as a crash, not as 'exited -11'."""
    tf = require_framework("tensorflow")
    lib = compile_so(tmp_path, "crashes_tensorflow", "#include <signal.h>\n"
                     "__attribute__((constructor)) static void on_load(void) { raise(SIGSEGV); }",
                     "-Wl,--no-as-needed", f"-L{tf.sysconfig.get_lib()}", "-l:libtensorflow_framework.so.2")
    proc = check(lib)
    assert f"{lib}: op names not read (loading it here crashed with SIGSEGV)" in proc.stderr, proc.stderr


def test_tensorrt_plugins_not_checked_without_tensorrt(tmp_path):
    plugin = compile_so(tmp_path, "plugins", "void* getPluginCreators(int* n) { *n = 0; return 0; }")
    proc = check(plugin)
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        assert proc.returncode == 0 and "TensorRT plugin names: not checked" in proc.stderr
    else:
        pytest.skip("tensorrt is importable here: its registry is checked instead")


def test_a_library_needing_a_newer_glibc_than_the_release(tmp_path):
    from opforge import elf
    from packaging.version import Version

    # pthread_create is GLIBC_2.34 where libpthread went into libc; 22.12's Ubuntu 20.04 has 2.31.
    newer = compile_so(tmp_path, "newglibc", "#include <pthread.h>\nstatic void* run(void* a) { return a; }\n"
                       "int start(pthread_t* t) { return pthread_create(t, 0, run, 0); }")
    if elf.highest_version(newer, "GLIBC") <= Version("2.31"):
        pytest.skip("this machine's glibc is older than 2.34: what it links needs nothing 22.12's 2.31 lacks")
    lines = problems(check(newer, "--release", "22.12"))
    assert any("glibc version for Triton 22.12" in line for line in lines), lines


def test_a_library_linked_to_another_cuda_major(tmp_path):
    # A library that needs CUDA 13's runtime (a stand-in with its soname), checked against 23.05's CUDA 12.1.
    cudart = compile_so(tmp_path, "cudart", "int cudaStub(void) { return 0; }", "-Wl,-soname,libcudart.so.13")
    (tmp_path / "libcudart.so.13").symlink_to(cudart)
    other_cuda = compile_so(tmp_path, "gpuop", "int cudaStub(void); int f(void) { return cudaStub(); }",
                            f"-L{tmp_path}", "-l:libcudart.so.13")
    lines = problems(check(other_cuda, "--release", "23.05"))
    assert any("CUDA runtime" in line and "libcudart.so.[13]" in line for line in lines), lines


def test_a_cuda_runtime_function_the_release_lacks(tmp_path):
    """Built with CUDA 12.4 (what opforge builds every 12.x release with) and
    calling cudaFuncGetName (12.3 on): it does not load in 23.05 (CUDA 12.1),
    and does in 24.10 (12.6)."""
    from opforge import cuda_toolkit, releases

    toolkit = cuda_toolkit.cache_root() / "12.4"
    runtimes = {r: cuda_toolkit.cached_runtime(releases.get_release(r).version("cuda")) for r in ("23.05", "24.10")}
    if not (toolkit / "lib64" / "libcudart.so.12").is_file() or not runtimes["23.05"]:
        pytest.skip("no CUDA 12.4 toolkit or 23.05 CUDA runtime in opforge's cache: `make triton-23.05` fetches both")
    user = compile_so(tmp_path, "gpuop", "#include <cuda_runtime_api.h>\n"
                      "const char* name_of(const void* f) { const char* n = 0; cudaFuncGetName(&n, f); return n; }",
                      f"-I{toolkit / 'include'}", f"-L{toolkit / 'lib64'}", "-lcudart")
    lines = problems(check(user, "--release", "23.05"))
    assert lines == [f"{user}: CUDA runtime symbols for Triton 23.05: needs cudaFuncGetName from libcudart.so.12, "
                     f"which the release's CUDA runtime ({runtimes['23.05'].source}) lacks: the library does not "
                     "load there. Call only the functions that runtime has, or build with a toolkit of its CUDA "
                     "minor (`opforge build --cuda DIR`)"], lines
    proc = check(user, "--release", "24.10")
    if runtimes["24.10"]:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    else:
        assert proc.returncode == 0 and "were not checked against Triton 24.10's CUDA 12.6.2 runtime" in proc.stderr


def test_a_release_folder_checked_for_another_release_says_which_it_was_built_for():
    if not (DIST / "manifest.json").is_file():
        pytest.skip(f"no {DIST}: run `make triton-23.05` first")
    lines = problems(check(DIST / "libopforge_onnxruntime.so", "--release", "22.12"))
    hinted = [line for line in lines if line.endswith("(it was built for Triton 23.05: deploy a build of --release 22.12)")]
    assert lines and hinted == lines[:1], lines  # said once, on its first problem
    # A release whose checks it passes: still said, as a note, with the framework versions of both.
    proc = check(DIST / "libopforge_torch.so", "--release", "24.10")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (f"note: {DIST / 'libopforge_torch.so'}: built for Triton 23.05 (torch 2.0.0), not for 24.10 (torch "
            "2.5.0a0+e000cf0ad9): it passes the checks here, but only a build of --release 24.10 is made and tested "
            "against that torch") in proc.stderr.splitlines(), proc.stderr
    assert "built for Triton" not in check(DIST / "libopforge_torch.so", "--release", "23.05").stderr


def test_bad_arguments():
    assert check().returncode == 2
    assert check("--launch", "/no/such/file").returncode == 2
    proc = check("--model-repository", "/etc/hostname")
    assert proc.returncode == 2 and "--model-repository /etc/hostname: not a folder" in proc.stderr
    proc = check("--model-repository", "/no/such/folder")
    assert proc.returncode == 2 and "no such folder" in proc.stderr
    assert check("--release", "99.99", "/bin/true").returncode == 2


def test_commented_preloads_of_a_launch_file_do_not_count(tmp_path):
    """triton.env names the TensorFlow preload only in a comment (opt-in)."""
    from opforge.check import launch_preloads

    env = tmp_path / "triton.env"
    env.write_text('export LD_PRELOAD="/opt/opforge/libopforge_torch.so${LD_PRELOAD:+:$LD_PRELOAD}"\n'
                   '#   export LD_PRELOAD="/opt/opforge/libopforge_tensorflow.so${LD_PRELOAD:+:$LD_PRELOAD}"\n'
                   '#   --backend-config=tensorrt,plugins=/opt/opforge/libopforge_tensorrt.so\n')
    preloads, plugins = launch_preloads(env, {"/opt/opforge": tmp_path})
    assert preloads == [tmp_path / "libopforge_torch.so"] and plugins == []


def test_files_that_are_not_libraries_are_problems_not_crashes(tmp_path, deployed):
    text = tmp_path / "libnotes.so"
    text.write_text("not ELF\n")
    truncated = tmp_path / "libtruncated.so"
    truncated.write_bytes(Path(library("onnxruntime")).read_bytes()[:100])
    lines = problems(check(text, truncated))
    assert len(lines) == 2 and str(text) in lines[0] and str(truncated) in lines[1], lines
    assert all("not a shared library" in line for line in lines), lines
    repo = copy_repository(deployed, tmp_path / "models")
    shutil.copy(text, repo / "libopforge_onnxruntime.so")  # what model_operations names
    lines = problems(check("--model-repository", repo))
    assert any("libopforge_onnxruntime.so: not a shared library" in line for line in lines), lines
    assert check("--launch", tmp_path).returncode == 2  # a folder is not a launch file
    dangling = tmp_path / "libdangling.so"
    dangling.symlink_to(tmp_path / "gone" / "libopforge_torch.so")
    assert problems(check(tmp_path, tmp_path / "libnowhere.so", dangling)) == [
        f"{tmp_path}: not a file (named here)", f"{tmp_path / 'libnowhere.so'}: no such library (named here)",
        f"{dangling}: a link to {tmp_path / 'gone' / 'libopforge_torch.so'}, which does not exist (named here)"]


def test_a_graphdef_model_is_read_like_a_savedmodel(deployed, tmp_path):
    require_framework("tensorflow")
    repo = copy_repository(deployed, tmp_path / "models")
    graph = repo / "tf_graph" / "1" / "model.graphdef"
    graph.parent.mkdir(parents=True)
    code = ("import sys, tensorflow as tf\nops = tf.load_op_library(sys.argv[1])\n"
            "f = tf.function(lambda x: ops.opforge_clip(x, lo=-1.0, hi=1.0))\n"
            "g = f.get_concrete_function(tf.TensorSpec([None], tf.float32)).graph.as_graph_def()\n"
            "open(sys.argv[2], 'wb').write(g.SerializeToString())\nprint('{}')\n")
    from conftest import results_of, run_python
    results_of(run_python(code, library("tensorflow"), str(graph)))
    (repo / "tf_graph" / "config.pbtxt").write_text('name: "tf_graph"\nplatform: "tensorflow_graphdef"\n')
    (line,) = problems(check("--model-repository", repo))
    assert "model tf_graph" in line and "OpforgeClip" in line and "model_operations" in line


def test_a_library_that_does_not_load_here_is_reported_unchecked(tmp_path):
    """23.05's torch library (torch 2.0) does not load into this torch: its
    clashes cannot be checked, and the verdict says so."""
    from model_repository import DIST

    if not (DIST / "libopforge_torch.so").is_file():
        pytest.skip(f"no {DIST}/libopforge_torch.so: run `make triton-23.05` first")
    require_framework("torch")
    copy = tmp_path / "libteam_b_torch.so"  # outside its release folder: no manifest names its ops
    shutil.copy(DIST / "libopforge_torch.so", copy)
    proc = check(copy)
    if "op names not read" not in proc.stderr:
        pytest.skip("the 23.05 torch library loads into this torch: nothing is left unchecked")
    assert proc.returncode == 0 and "the op names of 1 library could not be read" in proc.stdout, \
        proc.stdout + proc.stderr


def test_an_onnx_runtime_library_without_its_manifest_is_unchecked_not_failed(tmp_path):
    """ONNX Runtime cannot list a library's ops: without opforge's manifest
    beside it, a model's needs are not known to be missing."""
    from model_repository import CONFIGS, DIST, onnx_model

    if not (DIST / "libopforge_onnxruntime.so").is_file():
        pytest.skip(f"no {DIST}/libopforge_onnxruntime.so: run `make triton-23.05` first")
    require_framework("onnx")
    repo = tmp_path / "repo"
    onnx_model(repo / "onnx_clip" / "1" / "model.onnx")
    lib = tmp_path / "alone" / "libopforge_onnxruntime.so"
    lib.parent.mkdir()
    shutil.copy(DIST / "libopforge_onnxruntime.so", lib)
    (repo / "onnx_clip" / "config.pbtxt").write_text(
        CONFIGS["onnx_clip"] + f'model_operations {{ op_library_filename: "{lib}" }}\n')
    proc = check("--model-repository", repo)
    assert proc.returncode == 0 and "needs not checked" in proc.stderr, proc.stdout + proc.stderr
    assert "could not be read" in proc.stdout, proc.stdout


def test_folders_the_server_would_take_for_models_are_problems(deployed, tmp_path):
    repo = copy_repository(deployed, tmp_path / "models")
    (repo / ".git" / "objects").mkdir(parents=True)
    (repo / "notes").mkdir()
    lines = problems(check("--model-repository", repo))
    assert len(lines) == 2 and all("neither config.pbtxt nor a model file" in line for line in lines), lines


def test_only_the_versions_the_server_loads_are_read(deployed, tmp_path):
    """Triton loads the latest version unless version_policy says more: an
    older version that does not parse is never loaded."""
    repo = copy_repository(deployed, tmp_path / "models")
    (repo / "onnx_clip" / "0").mkdir()
    (repo / "onnx_clip" / "0" / "model.onnx").write_text("not ONNX")
    proc = check("--model-repository", repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = repo / "onnx_clip" / "config.pbtxt"
    config.write_text(config.read_text() + "version_policy { all { } }\n")
    assert any("onnx_clip" in line and "cannot be read" in line for line in problems(check("--model-repository", repo)))
    config.write_text(config.read_text().replace("all { }", "specific { versions: [ 1 ] }"))
    assert check("--model-repository", repo).returncode == 0


def test_a_relative_library_name_is_left_unchecked(deployed, tmp_path):
    """The server's loader resolves a relative op_library_filename, not check's working folder."""
    from opforge import model_config

    repo = copy_repository(deployed, tmp_path / "models")
    path = repo / "onnx_clip" / "config.pbtxt"
    config = model_config.read(path)
    config.model_operations.op_library_filename[:] = ["libopforge_onnxruntime.so"]
    path.write_text(model_config.to_text(config))
    for release in ([], ["--release", "23.05"]):  # the release's rules leave it alone too (a file it cannot read)
        proc = check("--model-repository", repo, *release)
        assert proc.returncode == 0 and "a relative path" in proc.stderr, proc.stdout + proc.stderr


def test_one_unreadable_tensorflow_model_does_not_hide_the_others(deployed, tmp_path):
    """TensorFlow reads every TensorFlow model in one interpreter: a file it
    cannot parse fails that model alone, and the others are still read."""
    repo = copy_repository(deployed, tmp_path / "models")
    shutil.copytree(repo / "tf_clip", repo / "tf_broken")
    config = repo / "tf_broken" / "config.pbtxt"
    config.write_text(config.read_text().replace('name: "tf_clip"', 'name: "tf_broken"'))
    (repo / "tf_broken" / "1" / "model.savedmodel" / "saved_model.pb").write_bytes(b"\x08\xff not a model")
    (repo / "tf_clip" / "config.pbtxt").write_text(
        (repo / "tf_clip" / "config.pbtxt").read_text().split("model_operations")[0])  # its library, gone
    lines = problems(check("--model-repository", repo))
    assert len(lines) == 2, lines
    assert "model tf_broken: tf_broken/1/model.savedmodel cannot be read as a tensorflow model (DecodeError" \
        in lines[0], lines
    assert lines[1].startswith("model tf_clip: needs OpforgeClip, which its model_operations do not provide"), lines


def test_a_library_replaced_after_the_deploy_is_read_as_it_is(deployed, tmp_path):
    """The repository's TensorFlow library swapped for the one `pip install .`
    built here: its manifest no longer describes it, so check says so and
    reads the file itself, which the release's TensorFlow does not load."""
    require_framework("tensorflow")
    repo = copy_repository(deployed, tmp_path / "models")
    swapped = repo / "libopforge_tensorflow.so"
    shutil.copy(library("tensorflow"), swapped)
    proc = check("--model-repository", repo)
    assert (f"note: {swapped}: not the file {repo / 'opforge-manifest.opforge.json'} records (sha256 differs: "
            "replaced after the build or deploy?), so it was read as it is, not as that manifest describes it "
            "(deploy the release folder again to put its own file back)") in proc.stderr.splitlines(), proc.stderr
    assert not [line for line in proc.stderr.splitlines() if "sha256 differs" in line and str(swapped) not in line]
    from opforge import releases, toolchains

    if toolchains.PipToolchain(releases.get_release("23.05")).made("tensorflow"):  # read with it: it fails there
        assert any(line.startswith(f"model tf_clip: {swapped} does not load in TensorFlow 2.12.0 (Triton 23.05)")
                   for line in problems(proc)), proc.stdout + proc.stderr
    clean = check("--model-repository", deployed)
    assert "sha256 differs" not in clean.stderr, clean.stderr

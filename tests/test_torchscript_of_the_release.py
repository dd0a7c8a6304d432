"""`opforge check --release` loads a TorchScript model in the release's own
torch (PyPI's stand-in for its NGC libtorch, which `opforge build --release`
provisioned here), with the preloaded libraries' ops defined from their
schemas: what Triton's `torch::jit::load` refuses fails the model there."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import release_python, library, require_framework, results_of, run_python
from opcases import REPO
from test_check import check, problems


DIST = REPO / "dist" / "triton-23.05"

# A model per way a release's torch takes it: it lacks aten::rms_norm (torch
# 2.4 added it); opforge::clip scripted against another schema than the
# library's; opforge::clip as the library has it; builtins 2.0 has.
SAVE = r"""
import json, sys, torch
kind, path, lib = sys.argv[1:4]
if kind == "other_schema":  # the definition lasts as long as the Library object
    definitions = torch.library.Library("opforge", "DEF")
    definitions.define("clip(Tensor x, float lo) -> Tensor")
else:
    torch.ops.load_library(lib)

class NewerOp(torch.nn.Module):
    def forward(self, x):
        return torch.nn.functional.rms_norm(x, [x.shape[-1]])

class OtherSchema(torch.nn.Module):
    def forward(self, x):
        return torch.ops.opforge.clip(x, 0.5)

class OpforgeClip(torch.nn.Module):
    def forward(self, x):
        return torch.ops.opforge.clip(x, -1.0, 1.0) * 2

class Plain(torch.nn.Module):
    def forward(self, x):
        return torch.clamp(x, -1.0, 1.0) + 1

Model = {"newer_op": NewerOp, "other_schema": OtherSchema, "opforge_clip": OpforgeClip, "plain": Plain}[kind]
torch.jit.script(Model()).save(path)
print(json.dumps({"saved": torch.__version__}))
"""

# What the release's torch itself says, with the library's schemas defined
# as check defines them (its kernels cannot load there: other C++ ABI).
LOAD = r"""
import json, sys, torch
definitions = torch.library.Library("opforge", "DEF")
definitions.define("clip(Tensor x, float lo, float hi) -> Tensor")
try:
    torch.jit.load(sys.argv[1], map_location="cpu")
    print(json.dumps({"version": torch.__version__, "error": ""}))
except Exception as e:
    print(json.dumps({"version": torch.__version__, "error": str(e)}))
"""

CONFIG = 'name: "{name}"\nplatform: "pytorch_libtorch"\nmax_batch_size: 0\n'
KINDS = ("newer_op", "other_schema", "opforge_clip", "plain")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    require_framework("torch")
    repo = tmp_path_factory.mktemp("torchscript") / "models"
    save = repo.parent / "save.py"  # a file: torch.jit.script reads the source of what it compiles
    save.write_text(SAVE)
    for kind in KINDS:
        (repo / kind / "1").mkdir(parents=True)
        (repo / kind / "config.pbtxt").write_text(CONFIG.format(name=kind))
        results_of(subprocess.run([sys.executable, str(save), kind, str(repo / kind / "1" / "model.pt"),
                                   library("torch")], capture_output=True, text=True, timeout=300))
    return repo


def expected_problems(repo) -> list[str]:
    libtorch = "Triton 23.05's libtorch (PyTorch 2.0.0; loaded in PyPI torch 2.0.1)"
    return [
        f"model newer_op: newer_op/1/model.pt calls aten::rms_norm, which {libtorch} does not have (the model fails "
        "to load: Unknown builtin op: aten::rms_norm): script it with ops PyTorch 2.0.0 has, or serve it on a "
        "release whose PyTorch has it",
        "model other_schema: other_schema/1/model.pt calls opforge::clip otherwise than the preloaded library's "
        "schema allows (the model fails to load: opforge::clip(Tensor x, float lo, float hi) -> Tensor: Argument "
        "hi not provided. (File \"code/__torch__.py\", line 8)): it was scripted against another version of that "
        "op; script it against this library, or preload the one it was scripted with",
    ]


def test_the_release_torch_refuses_what_check_names(repo):
    """The problems are the release torch's own verdicts: loaded there directly."""
    python = release_python("torch")
    said = {kind: results_of(run_python(LOAD, str(repo / kind / "1" / "model.pt"), python=python))
            for kind in KINDS}
    assert {s["version"].split("+")[0] for s in said.values()} == {"2.0.1"}, said
    assert "Unknown builtin op: aten::rms_norm" in said["newer_op"]["error"], said
    assert "Argument hi not provided" in said["other_schema"]["error"], said
    assert said["opforge_clip"]["error"] == said["plain"]["error"] == "", said


def test_check_with_the_schemas_the_library_registers_here(repo):
    """A library without a manifest: its schemas are read by loading it here."""
    release_python("torch")
    lines = problems(check(library("torch"), "--model-repository", repo, "--release", "23.05"))
    assert lines == expected_problems(repo), lines


def test_check_with_the_schemas_of_the_release_manifest(repo):
    """The release folder's library cannot load here (the release's C++ ABI):
    the manifest carries the schemas the release's torch registered."""
    release_python("torch")
    if not (DIST / "libopforge_torch.so").is_file():
        pytest.skip(f"no {DIST}/libopforge_torch.so: run `make triton-23.05` first")
    manifest = json.loads((DIST / "manifest.json").read_text())
    torch_entry = next(c for c in manifest["libraries"] if c["framework"] == "torch")
    registered_here = results_of(run_python(
        "import json, sys, torch; torch.ops.load_library(sys.argv[1]); "
        "print(json.dumps(sorted(str(s) for op in sys.argv[2:] "
        "for s in torch._C._jit_get_schemas_for_operator('opforge::' + op))))", library("torch"), *manifest["ops"]))
    assert sorted(torch_entry["schemas"]) == registered_here
    # No --release: the manifest's release is checked.
    proc = check(DIST / "libopforge_torch.so", "--model-repository", repo)
    assert problems(proc) == expected_problems(repo), proc.stdout + proc.stderr


def test_without_the_release_torch_here_the_check_says_so(repo, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "opforge", "check", library("torch"), "--model-repository",
                           str(repo), "--release", "23.05"], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "empty-cache")))
    assert ("note: the TorchScript of newer_op, opforge_clip, other_schema, plain: not loaded in Triton 23.05's "
            "torch (`opforge build --release 23.05` provisions PyPI torch 2.0.1 here)") in proc.stderr.splitlines(), \
        proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr

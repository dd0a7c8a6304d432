"""Measure what each ONNX Runtime version reads: the newest ONNX IR version
and the newest opset of ONNX's domains (ai.onnx, ai.onnx.ml) of a model it
loads. Prints the [onnxruntime."X.Y.Z"] rows
of python/opforge/releases.toml (tag ORTM).

    python tools/onnxruntime_limits.py 1.15.0 1.16.3 ...   (default: every
    onnxruntime version releases.toml names)

Each version's wheel is installed with pip into a folder of its own and
probed in a child interpreter, which needs numpy (< 2 for onnxruntime
< 1.19) and onnx importable. tests/test_onnx_reads.py runs the same probe
in the runtimes the tests have.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = r"""
import json, onnxruntime as ort
from onnx import TensorProto, helper

def refusal(ir_version, opsets):
    g = helper.make_graph([helper.make_node("Abs", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("" if d == "ai.onnx" else d, v)
                                           for d, v in opsets.items()])
    m.ir_version = ir_version
    try:
        ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        return ""
    except Exception as e:
        return str(e)

ir = max(k for k in range(7, 32) if not refusal(k, {"ai.onnx": 13}))
opset = max(m for m in range(13, 64) if not refusal(ir, {"ai.onnx": m}))
ml = max(n for n in range(1, 32) if not refusal(ir, {"ai.onnx": 13, "ai.onnx.ml": n}))
print(json.dumps({"version": ort.__version__, "ir_version": ir, "opsets": {"ai.onnx": opset, "ai.onnx.ml": ml},
                  "refused": {"ir_version": refusal(ir + 1, {"ai.onnx": 13}),
                              "ai.onnx": refusal(ir, {"ai.onnx": opset + 1}),
                              "ai.onnx.ml": refusal(ir, {"ai.onnx": 13, "ai.onnx.ml": ml + 1})}}))
"""


def probe(python: str, env: dict | None = None) -> dict:
    """What the onnxruntime that `python` imports reads: its version, the
    highest IR version and opsets that load, and the refusal one above each."""
    proc = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"probe failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(version: str, work: Path) -> dict | str:
    target = work / version
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                          f"onnxruntime=={version}"], capture_output=True, text=True)
    if pip.returncode != 0:
        return f"no wheel: {(pip.stderr.strip().splitlines() or ['pip failed'])[-1]}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]))
    try:
        got = probe(sys.executable, env)
    except RuntimeError as e:
        return str(e)
    return got if got["version"] == version else f"probe loaded onnxruntime {got['version']}"


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))  # this checkout's release matrix
    from opforge import releases
    from packaging.version import Version

    versions = argv or sorted({r.onnxruntime for r in releases.load_releases().values()}, key=Version)
    with tempfile.TemporaryDirectory() as work:
        for version in versions:
            got = measure(version, Path(work))
            if isinstance(got, str):
                print(f"# {version}: not measured ({got})")
            else:
                opsets = ", ".join(f'"{domain}" = {v}' for domain, v in got["opsets"].items())
                print(f'[onnxruntime."{version}"]\nir_version = {got["ir_version"]}\nopsets = {{ {opsets} }}\n'
                      f'source = "ORTM: onnxruntime=={version} wheel"\n')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

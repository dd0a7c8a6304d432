"""Measure what each ONNX Runtime version reads: the newest ONNX IR version
and the newest opset of ONNX's domains (ai.onnx, ai.onnx.ml) of a model it
loads. Prints the [onnxruntime."X.Y.Z"] rows
of python/opforge/releases.toml (tag ORTM).

    python tools/onnxruntime_limits.py 1.15.0 1.16.3 ...   (default: every
    onnxruntime version releases.toml names)

Each version's wheel is installed with pip into a folder of its own and
probed in a child interpreter, which needs numpy (< 2 for onnxruntime
< 1.19) and onnx importable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from opforge import releases  # noqa: E402
from packaging.version import Version  # noqa: E402

PROBE = r"""
import json, onnxruntime as ort
from onnx import TensorProto, helper

def loads(ir_version, opsets):
    g = helper.make_graph([helper.make_node("Abs", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("" if d == "ai.onnx" else d, v)
                                           for d, v in opsets.items()])
    m.ir_version = ir_version
    try:
        ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        return True
    except Exception:
        return False

ir = max(k for k in range(7, 32) if loads(k, {"": 13}))
opset = max(m for m in range(13, 64) if loads(ir, {"": m}))
ml = max(m for m in range(1, 32) if loads(ir, {"": 13, "ai.onnx.ml": m}))
print(json.dumps([ort.__version__, ir, {"ai.onnx": opset, "ai.onnx.ml": ml}]))
"""


def measure(version: str, work: Path) -> tuple[int, dict[str, int]] | str:
    target = work / version
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                          f"onnxruntime=={version}"], capture_output=True, text=True)
    if pip.returncode != 0:
        return f"no wheel: {(pip.stderr.strip().splitlines() or ['pip failed'])[-1]}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]))
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env)
    if probe.returncode != 0:
        return f"probe failed: {(probe.stderr.strip().splitlines() or ['?'])[-1]}"
    loaded, ir, opsets = json.loads(probe.stdout.strip().splitlines()[-1])
    return (ir, opsets) if loaded == version else f"probe loaded onnxruntime {loaded}"


def main(argv: list[str]) -> int:
    versions = argv or sorted({r.onnxruntime for r in releases.load_releases().values()}, key=Version)
    with tempfile.TemporaryDirectory() as work:
        for version in versions:
            got = measure(version, Path(work))
            if isinstance(got, str):
                print(f"# {version}: not measured ({got})")
            else:
                opsets = ", ".join(f'"{domain}" = {v}' for domain, v in got[1].items())
                print(f'[onnxruntime."{version}"]\nir_version = {got[0]}\nopsets = {{ {opsets} }}\n'
                      f'source = "ORTM: onnxruntime=={version} wheel"\n')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""opforge's kernels against each framework's builtin of the same math, in one
process per framework, on this machine's CPU (and GPU when torch sees one).

For every op, framework and size it prints the median time of opforge's op
and of the builtin, their ratio (÷ builtin: below 1 means opforge is faster)
with the middle half of the ratios of samples taken side by side (a range
that straddles 1 is a tie on this machine), the op's GB/s (bytes read and
written) and a same-size memory copy's GB/s.
It writes the CPU figures as a PNG plot (matplotlib).

    python benchmarks/bench.py [--repeat 60] [--plot benchmarks/cpu.png] [--frameworks torch ...]

Builtins: torch clamp (float32 and float16) / fmod / a zeroed copy / the rms_norm composite;
TensorFlow clip_by_value / truncatemod / a zeroed copy / the composite;
ONNX Runtime Clip / Mod(fmod=1) / RMSNormalization (opset 23). The GPU table
(benchmarks/gpu_vs_torch.py) adds torch.compile.

"torch.ops" times torch's elementwise builtins as Python must call any custom
op: through torch.ops (torch.ops.aten.clamp), whose argument matching costs
some 0.2-0.4 µs more per call than torch.clamp's own binding. Set beside the
"torch" rows, it tells opforge's kernel and adapter from that fixed cost.
TorchScript, Triton's route, has neither.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (1 << 12, 1 << 16, 1 << 20, 1 << 23)
ROW = 1024  # rms_norm: rows of 1024


def calls_per_sample(fn, at_least: float = 2e-4) -> int:
    """How many back-to-back calls make one sample last at least `at_least`
    seconds, so that the timer's own cost and resolution stay out of it."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= at_least or number >= 1 << 16:
            return number
        number *= 2


def sample_seconds(*fns, repeat: int) -> list[list[float]]:
    """`repeat` samples of the seconds per call of each fn. Their samples
    interleave, so that a change in the machine's load touches all of them
    alike, and sample i of one fn was taken next to sample i of the others."""
    for fn in fns:
        fn()  # warm-up: allocators, thread pools
    numbers = [calls_per_sample(fn) for fn in fns]
    samples = [[] for _ in fns]
    for _ in range(repeat):
        for fn, number, out in zip(fns, numbers, samples):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            out.append((time.perf_counter() - start) / number)
    return samples


def middle_half(ratios) -> tuple[float, float]:
    """The middle half (first to third quartile) of ratios of samples taken
    side by side: where it straddles 1, the two sides are a tie."""
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return q1, q3


def moved_bytes(op: str, n: int) -> int:
    """Bytes an op reads and writes for n float32 elements (clip_f16: float16, zero_out: int64)."""
    return {"clip": 8 * n, "clip_f16": 4 * n, "modulo": 12 * n, "zero_out": 8 * n + 8,
            "rms_norm": 8 * n + 4 * ROW}[op]


def copy_seconds(nbytes: int, repeat: int) -> float:
    """A copy that reads and writes nbytes in all, as numpy does it."""
    src = np.ones(nbytes // 8, np.float32)
    dst = np.empty_like(src)
    return statistics.median(sample_seconds(lambda: np.copyto(dst, src), repeat=repeat)[0])


def torch_cases(n: int, builtins=None):
    """builtins: where clamp and fmod come from (torch, or torch.ops.aten)."""
    import opforge
    import torch

    opforge.load("torch")
    ops = torch.ops.opforge
    x, b = torch.randn(n), torch.randn(n) + 3
    h = x.half()
    i = torch.randint(-1000, 1000, (n,), dtype=torch.int64)
    rows, w = torch.randn(n // ROW, ROW), torch.randn(ROW)

    builtin = builtins or torch

    def zeroed(t):
        y = torch.zeros_like(t)
        y[:1] = t[:1]
        return y

    return {
        "clip": (lambda: ops.clip(x, -0.5, 0.5), lambda: builtin.clamp(x, -0.5, 0.5)),
        "clip_f16": (lambda: ops.clip(h, -0.5, 0.5), lambda: builtin.clamp(h, -0.5, 0.5)),
        "modulo": (lambda: ops.modulo(x, b), lambda: builtin.fmod(x, b)),
        "zero_out": (lambda: ops.zero_out(i), lambda: zeroed(i)),
        "rms_norm": (lambda: ops.rms_norm(rows, w, 1e-6),
                     lambda: rows * torch.rsqrt(rows.pow(2).mean(-1, keepdim=True) + 1e-6) * w),
    }


def torch_ops_cases(n: int):
    """The elementwise ops against torch's builtins called through torch.ops,
    the path every custom op takes from Python."""
    import torch

    cases = torch_cases(n, builtins=torch.ops.aten)
    return {op: cases[op] for op in ("clip", "clip_f16", "modulo")}


def script_calls(n: int) -> int:
    """Calls per TorchScript run: enough to hide the one Python call on small
    tensors, one on large ones."""
    return max(1, min(100, (1 << 20) // n))


def torchscript_cases(n: int):
    """The torch ops as Triton's libtorch backend runs them: from TorchScript,
    with no Python per call (script_calls(n) calls per run)."""
    import opforge
    import torch

    opforge.load("torch")
    x, b = torch.randn(n), torch.randn(n) + 3
    i = torch.randint(-1000, 1000, (n,), dtype=torch.int64)
    rows = torch.randn(n // ROW, ROW)
    w = 1 + 0.01 * torch.randn(ROW)  # weights near 1: chained rms_norms stay normal numbers
    # Each call takes the previous result: TorchScript drops calls whose results go unused.
    calls = {
        "clip": ("torch.ops.opforge.clip(y, -0.5, 0.5)", "torch.clamp(y, -0.5, 0.5)"),
        "modulo": ("torch.ops.opforge.modulo(y, b)", "torch.fmod(y, b)"),
        "zero_out": ("torch.ops.opforge.zero_out(y)", "zeroed(y)"),
        "rms_norm": ("torch.ops.opforge.rms_norm(y, b, 1e-6)",
                     "y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + 1e-6) * b"),
    }
    source = """
def zeroed(x):
    y = torch.zeros_like(x)
    y[:1] = x[:1]
    return y
"""
    for op, pair in calls.items():
        for which, call in zip(("ours", "builtin"), pair):
            source += (f"def {op}_{which}(x, b):\n    y = x\n    for _ in range({script_calls(n)}):\n"
                       f"        y = {call}\n    return y\n")
    cu = torch.jit.CompilationUnit(source)
    inputs = {"clip": (x, b), "modulo": (x, b), "zero_out": (i, i), "rms_norm": (rows, w)}
    return {op: tuple((lambda f=getattr(cu, f"{op}_{which}"), a=inputs[op]: f(*a)) for which in ("ours", "builtin"))
            for op in calls}


def tensorflow_cases(n: int):
    import opforge
    import tensorflow as tf

    m = opforge.load("tensorflow")
    x, b = tf.random.normal([n]), tf.random.normal([n]) + 3
    i = tf.random.uniform([n], -1000, 1000, tf.int64)
    rows, w = tf.random.normal([n // ROW, ROW]), tf.random.normal([ROW])
    return {
        "clip": (lambda: m.opforge_clip(x, lo=-0.5, hi=0.5), lambda: tf.clip_by_value(x, -0.5, 0.5)),
        "modulo": (lambda: m.opforge_modulo(x, b), lambda: tf.truncatemod(x, b)),
        "zero_out": (lambda: m.opforge_zero_out(i), lambda: tf.concat([i[:1], tf.zeros([n - 1], tf.int64)], 0)),
        "rms_norm": (lambda: m.opforge_rms_norm(rows, w, epsilon=1e-6),
                     lambda: rows * tf.math.rsqrt(tf.reduce_mean(rows * rows, -1, keepdims=True) + 1e-6) * w),
    }


def onnxruntime_cases(n: int):
    import onnxruntime as ort
    from onnx import TensorProto, helper

    import opforge

    lib = opforge.library_path("onnxruntime")
    F, I64 = TensorProto.FLOAT, TensorProto.INT64

    def session(nodes, inputs, opset=17, inits=()):
        g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(k, t, None) for k, t in inputs],
                              [helper.make_tensor_value_info("y", inputs[0][1], None)], initializer=list(inits))
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid("opforge", 1)])
        model.ir_version = 10 if opset >= 23 else 8
        so = ort.SessionOptions()
        # Each session has its own intra-op pool, whose threads spin after a run; timed in
        # alternation on two cores, the runs were 2.4x slower at 8M elements with spinning on.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.register_custom_ops_library(lib)
        s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])

        def bound(feeds):  # inputs and output in place: no copy into a new numpy array per run
            binding = s.io_binding()
            for name, value in feeds.items():
                binding.bind_cpu_input(name, value)
            first = next(iter(feeds.values()))
            binding.bind_ortvalue_output("y", ort.OrtValue.ortvalue_from_numpy(np.empty_like(first)))
            return lambda: s.run_with_iobinding(binding)

        return bound

    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(np.float32)
    b = (rng.standard_normal(n) + 3).astype(np.float32)
    i = rng.integers(-1000, 1000, n)
    rows, w = rng.standard_normal((n // ROW, ROW)).astype(np.float32), rng.standard_normal(ROW).astype(np.float32)
    lo_hi = [helper.make_tensor("lo", F, [], [-0.5]), helper.make_tensor("hi", F, [], [0.5])]
    cases = {
        "clip": (session([helper.make_node("Clip", ["x"], ["y"], domain="opforge", lo=-0.5, hi=0.5)], [("x", F)])(
                     {"x": x}),
                 session([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], [("x", F)], inits=lo_hi)({"x": x})),
        "modulo": (session([helper.make_node("Modulo", ["a", "b"], ["y"], domain="opforge")], [("a", F), ("b", F)])(
                       {"a": x, "b": b}),
                   session([helper.make_node("Mod", ["a", "b"], ["y"], fmod=1)], [("a", F), ("b", F)])(
                       {"a": x, "b": b})),
        "zero_out": (session([helper.make_node("ZeroOut", ["x"], ["y"], domain="opforge")], [("x", I64)])({"x": i}),
                     None),
    }
    ours = session([helper.make_node("RmsNorm", ["x", "w"], ["y"], domain="opforge", epsilon=1e-6)],
                   [("x", F), ("w", F)])({"x": rows, "w": w})
    try:
        builtin = session([helper.make_node("RMSNormalization", ["x", "w"], ["y"], axis=-1, epsilon=1e-6)],
                          [("x", F), ("w", F)], opset=23)({"x": rows, "w": w})
    except Exception:  # a runtime without opset 23
        builtin = None
    cases["rms_norm"] = (ours, builtin)
    return cases


CASES = {"torch": torch_cases, "torch.ops": torch_ops_cases, "torchscript": torchscript_cases,
         "tensorflow": tensorflow_cases, "onnxruntime": onnxruntime_cases}


def run_framework(framework: str, repeat: int) -> list[dict]:
    rows = []
    for n in SIZES:
        copy = copy_seconds(max(moved_bytes("clip", n), 64), repeat)
        for op, (ours, builtin) in CASES[framework](n).items():
            calls = script_calls(n) if framework == "torchscript" else 1
            samples = sample_seconds(*(fn for fn in (ours, builtin) if fn), repeat=repeat)
            a = statistics.median(samples[0]) / calls
            b = statistics.median(samples[1]) / calls if builtin else None
            rows.append({"framework": framework, "op": op, "n": n, "ours": a, "builtin": b,
                         "middle_half": middle_half([x / y for x, y in zip(*samples)]) if builtin else None,
                         "gbs": moved_bytes(op, n) / a / 1e9, "copy_gbs": moved_bytes("clip", n) / copy / 1e9})
    return rows


def child(framework: str, repeat: int) -> None:
    import json

    print(json.dumps(run_framework(framework, repeat)))


def figure(x: float, decimals: int) -> str:
    """`decimals` places; below 0.1 two significant digits, so that a
    value of a run starved of CPU (a GB/s, a ratio) never reads as 0."""
    return f"{x:.{decimals}f}" if x >= 0.1 else f"{x:.2g}"


def print_table(rows: list[dict]) -> None:
    print(f"{'framework':12} {'op':9} {'elements':>9} {'opforge ms':>11} {'builtin ms':>11} {'÷builtin':>9} "
          f"{'middle half':>12} {'GB/s':>7} {'copy GB/s':>10}")
    for r in rows:
        b = f"{r['builtin'] * 1e3:11.3f}" if r["builtin"] else f"{'–':>11}"
        ratio = f"{figure(r['ours'] / r['builtin'], 2):>9}" if r["builtin"] else f"{'–':>9}"
        spread = "–".join(figure(x, 2) for x in r["middle_half"]) if r["builtin"] else "–"
        print(f"{r['framework']:12} {r['op']:9} {r['n']:>9} {r['ours'] * 1e3:11.3f} {b} {ratio} {spread:>12} "
              f"{figure(r['gbs'], 1):>7} {figure(r['copy_gbs'], 1):>10}")


def plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frameworks = sorted({r["framework"] for r in rows})
    cols = min(3, len(frameworks))
    grid_rows = -(-len(frameworks) // cols)
    fig, axes = plt.subplots(grid_rows, cols, figsize=(5 * cols, 4 * grid_rows), squeeze=False, sharey=True)
    for ax in axes.flat[len(frameworks):]:
        ax.set_visible(False)
    for ax, fw in zip(axes.flat, frameworks):
        for op in ("clip", "clip_f16", "modulo", "zero_out", "rms_norm"):
            pts = [(r["n"], r["ours"] / r["builtin"], *r["middle_half"]) for r in rows
                   if r["framework"] == fw and r["op"] == op and r["builtin"]]
            if pts:
                n, ratio, low, high = zip(*pts)
                line, = ax.plot(n, ratio, marker="o", label=op)
                ax.fill_between(n, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.axhline(1.0, color="gray", linestyle="--", linewidth=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(fw)
        ax.set_xlabel("elements")
        ax.legend()
    for row in axes:
        row[0].set_ylabel("opforge time ÷ builtin time")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=60)
    p.add_argument("--frameworks", nargs="+", choices=list(CASES), default=list(CASES))
    p.add_argument("--plot", default=str(Path(__file__).with_name("cpu.png")), help="PNG to write ('' for none)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.repeat < 2:
        p.error("--repeat must be at least 2 (the middle half of the ratios needs two samples)")
    if args.child:
        return child(args.child, args.repeat)
    import json

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    title = f"{cpu}, {os.cpu_count()} cores"
    print(f"CPU: {title}")
    rows = []
    for fw in args.frameworks:  # one process per framework: their thread pools never meet
        # numpy's BLAS threads would spin next to the framework's on a small machine; nothing here uses them.
        proc = subprocess.run([sys.executable, __file__, "--child", fw, "--repeat", str(args.repeat)],
                              capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        if proc.returncode != 0:
            print(f"{fw}: skipped ({(proc.stderr.strip().splitlines() or ['failed'])[-1]})")
            continue
        rows += json.loads(proc.stdout.strip().splitlines()[-1])
    print_table(rows)
    if args.plot and rows:
        try:
            plot(rows, Path(args.plot), f"opforge ÷ builtin (below 1: opforge is faster; band: the middle half "
                                        f"of the paired samples), CPU: {title}")
        except ImportError:
            print("no matplotlib: no plot (pip install matplotlib)")
    try:
        import torch

        if torch.cuda.is_available():
            subprocess.run([sys.executable, str(Path(__file__).with_name("gpu_vs_torch.py"))], check=False)
    except ImportError:
        pass


if __name__ == "__main__":
    main()

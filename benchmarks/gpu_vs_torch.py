"""GPU speed of opforge's CUDA kernels against torch's builtins for the same
math, the same builtins under torch.compile, and a device-to-device copy of
the same bytes, in one process. Per op, dtype and shape: GB/s counting bytes
read and written, from the median of 30 launches each (CUDA events), the
four timed in alternation; then opforge's speed as a multiple of each (above
1: opforge is faster), with the middle half of the builtin's ratios over
samples taken side by side (a range that straddles 1 is a tie).

    python benchmarks/gpu_vs_torch.py [--repeat 30] [--small] [--no-compile] [--device cuda]

--device cpu runs the same cases on the CPU: a check that the script works
where no GPU is (tests/test_benchmarks.py), not a CPU measurement (bench.py).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import opforge
from bench import middle_half  # benchmarks/ is this script's folder, first on sys.path


def sample_ms(fns, repeat: int, device: str) -> list[list[float]]:
    """`repeat` samples of each fn in ms, interleaved, so that sample i of
    each was taken next to sample i of the others."""
    for fn in fns:
        for _ in range(3):  # warm-up: allocator, compiled kernels
            fn()
    cuda = device == "cuda"
    if cuda:
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in fns]
        torch.cuda.synchronize()
    samples = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            if cuda:
                start, stop = events[i]
                start.record()
                fn()
                stop.record()
                stop.synchronize()
                samples[i].append(start.elapsed_time(stop))
            else:
                t = time.perf_counter()
                fn()
                samples[i].append((time.perf_counter() - t) * 1e3)
    return samples


# torch's builtins of the same math as opforge's ops.
def clip_builtin(x):
    return torch.clamp(x, -0.5, 0.5)


def modulo_builtin(a, b):
    return torch.fmod(a, b)


def zero_out_builtin(x):
    y = torch.zeros_like(x)
    y.view(-1)[:1] = x.view(-1)[:1]
    return y


def rms_norm_builtin(x, w):
    return F.rms_norm(x, (x.shape[-1],), w, 1e-6)


def cases(small: bool, device: str):
    """(op, dtype, shape, bytes moved, args, opforge fn, builtin fn) per case."""
    ops = torch.ops.opforge
    n = 1 << (20 if small else 28)
    shapes = [(64, 1024)] if small else [(8192, 4096), (65536, 1024), (1048576, 128)]
    for dtype in (torch.float32, torch.float16):
        x = torch.randn(n, device=device, dtype=dtype)
        yield "clip", dtype, str(n), 2 * x.nbytes, (x,), lambda x: ops.clip(x, -0.5, 0.5), clip_builtin
    for dtype in (torch.float32, torch.int32):
        a = (torch.randn(n, device=device) * 100).to(dtype)
        b = (torch.rand(n, device=device) * 99 + 1).to(dtype)  # in [1, 100): torch's integer fmod raises on 0 on the CPU
        yield "modulo", dtype, str(n), 3 * a.nbytes, (a, b), ops.modulo, modulo_builtin
    for dtype in (torch.int32, torch.int64):
        i = torch.randint(-1000, 1000, (n,), device=device, dtype=dtype)
        # zero_out reads one element and writes the rest: its bytes are the writes
        yield "zero_out", dtype, str(n), i.nbytes, (i,), ops.zero_out, zero_out_builtin
    for dtype in (torch.float32, torch.float16):
        for rows, cols in shapes:
            x = torch.randn(rows, cols, device=device, dtype=dtype)
            w = torch.randn(cols, device=device, dtype=dtype)
            yield "rms_norm", dtype, f"{rows}x{cols}", 2 * x.nbytes + w.nbytes, (x, w), \
                lambda x, w: ops.rms_norm(x, w, 1e-6), rms_norm_builtin


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--small", action="store_true", help="small sizes (a quick check, not a measurement)")
    p.add_argument("--no-compile", action="store_true", help="leave torch.compile out")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = p.parse_args()
    if args.repeat < 2:
        p.error("--repeat must be at least 2 (the middle half of the ratios needs two samples)")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_vs_torch.py: torch sees no CUDA device (--device cpu checks the script on the CPU)")
    opforge.load("torch")
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU (a check of the script, not a measurement)"
    print(f"{name}, torch {torch.__version__}")
    print(f"{'op':9} {'dtype':8} {'shape':>12} {'opforge':>8} {'builtin':>8} {'compile':>8} {'copy':>8} "
          f"{'×builtin':>9} {'middle half':>12} {'×compile':>9} {'×copy':>6}   (GB/s; ×: opforge's speed as a multiple)")
    use_compile = not args.no_compile  # until a compile fails: then it would fail for every case
    for op, dtype, shape, nbytes, inputs, ours, builtin in cases(args.small, args.device):
        src = torch.empty(nbytes // 2, dtype=torch.uint8, device=args.device)  # a copy of half the bytes reads and
        dst = torch.empty_like(src)                                             # writes as many as the op
        fns = [lambda: ours(*inputs), lambda: builtin(*inputs), lambda: dst.copy_(src)]
        if use_compile:
            torch._dynamo.reset()  # a fresh compile per case, never a cache that gave up and fell back to eager
            compiled = torch.compile(builtin, dynamic=False)
            try:
                compiled(*inputs)
                fns.append(lambda: compiled(*inputs))
            except Exception as e:  # no Triton or no compiler here: the other columns still stand
                print(f"torch.compile failed, its columns left out: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
                use_compile = False
        samples = sample_ms(fns, args.repeat, args.device)
        t_ours, t_builtin, t_copy, *t_compiled = (statistics.median(s) for s in samples)
        low, high = middle_half([b / o for o, b in zip(samples[0], samples[1])])
        gbs = lambda ms: nbytes / ms / 1e6
        compiled_cols = (f"{gbs(t_compiled[0]):>8.0f}", f"{t_compiled[0] / t_ours:>9.2f}") if t_compiled else \
            (f"{'–':>8}", f"{'–':>9}")
        print(f"{op:9} {str(dtype).removeprefix('torch.'):8} {shape:>12} {gbs(t_ours):>8.0f} {gbs(t_builtin):>8.0f} "
              f"{compiled_cols[0]} {gbs(t_copy):>8.0f} {t_builtin / t_ours:>9.2f} "
              f"{f'{low:.2f}–{high:.2f}':>12} {compiled_cols[1]} {t_copy / t_ours:>6.2f}")
        del src, dst


if __name__ == "__main__":
    main()

"""GPU speed of opforge's CUDA kernels against torch's builtins for the same
math and against a device-to-device copy of the same bytes, in one process:
per op, dtype and shape the median time of 30 launches (CUDA events) and
GB/s counting bytes read and written; ratios above 1 mean opforge is faster
than the builtin.

    python benchmarks/gpu_vs_torch.py [--repeat 30] [--small]
"""

from __future__ import annotations

import argparse
import statistics

import torch
import torch.nn.functional as F

import opforge


def median_ms(fn, repeat: int) -> float:
    for _ in range(3):
        fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    samples = []
    for _ in range(repeat):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        samples.append(start.elapsed_time(stop))
    return statistics.median(samples)


def zero_out_builtin(x):
    y = torch.zeros_like(x)
    y.view(-1)[:1] = x.view(-1)[:1]
    return y


def cases(small: bool):
    ops = torch.ops.opforge
    n = 1 << (20 if small else 28)
    shapes = [(64, 1024)] if small else [(8192, 4096), (65536, 1024), (1048576, 128)]
    for dtype in (torch.float32, torch.float16):
        x = torch.randn(n, device="cuda", dtype=dtype)
        yield "clip", dtype, str(n), 2 * x.nbytes, lambda x=x: ops.clip(x, -0.5, 0.5), \
            lambda x=x: torch.clamp(x, -0.5, 0.5)
    for dtype in (torch.float32, torch.int32):
        a = (torch.randn(n, device="cuda") * 100).to(dtype)
        b = (torch.randn(n, device="cuda") * 10 + 50).to(dtype)
        yield "modulo", dtype, str(n), 3 * a.nbytes, lambda a=a, b=b: ops.modulo(a, b), \
            lambda a=a, b=b: torch.fmod(a, b)
    for dtype in (torch.int32, torch.int64):
        i = torch.randint(-1000, 1000, (n,), device="cuda", dtype=dtype)
        yield "zero_out", dtype, str(n), i.nbytes, lambda i=i: ops.zero_out(i), lambda i=i: zero_out_builtin(i)
    for dtype in (torch.float32, torch.float16):
        for rows, cols in shapes:
            x = torch.randn(rows, cols, device="cuda", dtype=dtype)
            w = torch.randn(cols, device="cuda", dtype=dtype)
            yield "rms_norm", dtype, f"{rows}x{cols}", 2 * x.nbytes + w.nbytes, \
                lambda x=x, w=w: ops.rms_norm(x, w, 1e-6), \
                lambda x=x, w=w, cols=cols: F.rms_norm(x, (cols,), w, 1e-6)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--small", action="store_true", help="small sizes (a quick check, not a measurement)")
    args = p.parse_args()
    opforge.load("torch")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(f"{'op':9} {'dtype':8} {'shape':>12} {'opforge GB/s':>13} {'builtin GB/s':>13} {'copy GB/s':>10} "
          f"{'÷builtin':>9} {'÷copy':>6}")
    for name, dtype, shape, nbytes, ours, builtin in cases(args.small):
        src = torch.empty(nbytes // 2, dtype=torch.uint8, device="cuda")
        dst = torch.empty_like(src)
        t_ours, t_builtin = median_ms(ours, args.repeat), median_ms(builtin, args.repeat)
        t_copy = median_ms(lambda: dst.copy_(src), args.repeat)
        gbs = lambda ms: nbytes / ms / 1e6
        print(f"{name:9} {str(dtype).removeprefix('torch.'):8} {shape:>12} {gbs(t_ours):>13.0f} "
              f"{gbs(t_builtin):>13.0f} {gbs(t_copy):>10.0f} {t_builtin / t_ours:>9.2f} {t_copy / t_ours:>6.2f}")
        del src, dst


if __name__ == "__main__":
    main()

"""CPU speed of opforge's kernels against torch's own implementation of the
same math, in one process: prints per op and size the median time of each
and their ratio (opforge / torch; below 1 means opforge is faster).

    python benchmarks/cpu_vs_torch.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import opforge


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm-up: allocator, thread pools
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cases(n: int):
    x = torch.randn(n)
    b = torch.randn(n) + 3
    i = torch.randint(-1000, 1000, (n,), dtype=torch.int64)
    rows = torch.randn(n // 1024, 1024)
    w = torch.randn(1024)
    ops = torch.ops.opforge
    return {
        "clip": (lambda: ops.clip(x, -0.5, 0.5), lambda: torch.clamp(x, -0.5, 0.5)),
        "zero_out": (lambda: ops.zero_out(i), lambda: torch.zeros_like(i).index_copy_(0, torch.tensor([0]), i[:1])),
        "modulo": (lambda: ops.modulo(x, b), lambda: torch.fmod(x, b)),
        "rms_norm": (lambda: ops.rms_norm(rows, w, 1e-6),
                     lambda: rows * torch.rsqrt(rows.pow(2).mean(-1, keepdim=True) + 1e-6) * w),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    opforge.load("torch")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'op':10} {'elements':>10} {'opforge ms':>11} {'torch ms':>9} {'ratio':>6}")
    for n in (1 << 12, 1 << 16, 1 << 20, 1 << 23):
        for name, (ours, theirs) in cases(n).items():
            a, b = median_seconds(ours, args.repeat), median_seconds(theirs, args.repeat)
            print(f"{name:10} {n:>10} {a * 1e3:>11.3f} {b * 1e3:>9.3f} {a / b:>6.2f}")


if __name__ == "__main__":
    main()

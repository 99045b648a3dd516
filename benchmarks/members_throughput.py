"""GAN-iterations per second with many seeds at once (--seeds N) on the parabola task.

For N = 1, 16, 64, 256 members of the seed preset (batch 64, G 5-128-15, D 15-128-1), one
process times the population's step and reports member-iterations per second, against N
sequential single runs (the single run's rate: N runs one after another take N times as long)
and against the seed's own loop (order fixed; benchmarks/seed_loop.py). It also reports the
achieved matrix-multiply FLOP/s against this machine's measured peak (a large square matmul,
same thread count): elementwise work is not counted, so this is a lower bound on work done.

    python benchmarks/members_throughput.py [--members 1 16 64 256] [--seconds 3] [--threads 1]
                                            [--ranks 1 2] [--rank-members 64] [--rank-steps 600]

The torchrun column trains ``--rank-members`` members of the seed preset as whole ``torchrun
--standalone --nproc-per-node K -m gankit train`` jobs (members split over K ranks, one thread
each) and reads the training rate between the 10% and 90% log rows of metrics.jsonl, so start-up,
evaluation and checkpoints are left out; the scaling efficiency is rate(K) / (K * rate(1)).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gankit.config.resolve import resolve_config
from gankit.training.trainer import Trainer
from seed_loop import SeedLoop


def rate(step, seconds: float, warmup: int = 20) -> float:
    """Calls of ``step`` per second, over at least ``seconds``."""
    for _ in range(warmup):
        step()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        step()
        count += 1
    return count / elapsed


def matmul_flops_per_iteration(noise: int, data: int, hidden: int, batch: int) -> float:
    """Multiply-add FLOPs of one iteration (k = 1) of the 2-layer G and D, forward and backward."""
    def fwd(n: int, layers: list[tuple[int, int]]) -> float:
        return sum(2.0 * n * i * o for i, o in layers)

    g = [(noise, hidden), (hidden, data)]
    d = [(data, hidden), (hidden, 1)]
    d_step = fwd(batch, g) + fwd(2 * batch, d) * 2 + fwd(2 * batch, d[1:])  # G no-grad; D fwd+bwd
    g_step = fwd(batch, g) * 2 + fwd(batch, g[1:]) + fwd(batch, d) * 2  # G fwd+bwd, D fwd+input-grad
    return d_step + g_step


def peak_matmul_flops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2.0 * size**3 * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--seconds", type=float, default=3.0, help="timing window per measurement")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ranks", type=int, nargs="*", default=[1, 2], help="torchrun column (none: skip)")
    parser.add_argument("--rank-members", type=int, default=64)
    parser.add_argument("--rank-steps", type=int, default=600)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seed_rate = rate(SeedLoop().step, args.seconds)
    single = Trainer.from_config(resolve_config("seed", overrides=[{"train": {"threads": args.threads}}]))
    single_rate = rate(single.step, args.seconds)
    peak = peak_matmul_flops()
    flops = matmul_flops_per_iteration(5, 15, 128, 64)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); seed preset shapes; "
          f"measured matmul peak {peak / 1e9:.1f} GFLOP/s (2048^2 fp32)")
    print(f"seed's loop (order fixed): {seed_rate:8.0f} iterations/s")
    print(f"one gankit run:            {single_rate:8.0f} iterations/s "
          f"(= N sequential runs, whatever N)")
    print(f"{'N':>5} {'member-it/s':>12} {'vs sequential':>14} {'vs seed loop':>13} "
          f"{'GFLOP/s':>8} {'of peak':>8}")
    for n in args.members:
        trainer = Trainer.from_config(resolve_config("seed", overrides=[{"seeds": n},
                                                            {"train": {"threads": args.threads}}]))
        steps = rate(trainer.step, args.seconds, warmup=5)
        throughput = steps * n
        achieved = throughput * flops
        print(f"{n:>5} {throughput:>12.0f} {throughput / single_rate:>13.1f}x "
              f"{throughput / seed_rate:>12.1f}x {achieved / 1e9:>8.2f} {achieved / peak:>8.1%}", flush=True)
    print("targets at N = 64: >= 5x sequential single runs, >= 20x the seed's loop")
    if args.ranks:
        torchrun_column(args.rank_members, args.ranks, args.rank_steps)


def torchrun_rate(members: int, ranks: int, steps: int) -> float:
    """Member-iterations per second of a whole torchrun job, between its 10% and 90% log rows."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        every = steps // 10
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                        str(ranks), "-m", "gankit", "train", "--preset", "seed", "--seeds", str(members),
                        "--steps", str(steps), "--quiet", "--no-figures", "--out", str(out),
                        "--set", f"log.log_every={every}", "--set", f"log.eval_every={steps}",
                        "--set", f"log.snapshot_every={steps}", "--set", f"log.checkpoint_every={steps}"],
                       check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    first, last = rows[0], rows[-2]  # the 10% and 90% rows (the last row is evaluated)
    return (last["step"] - first["step"]) * members / (last["elapsed_s"] - first["elapsed_s"])


def torchrun_column(members: int, ranks: list[int], steps: int) -> None:
    print(f"\ntorchrun, {members} members of the seed preset split over ranks (gloo, 1 thread each):")
    print(f"{'ranks':>5} {'member-it/s':>12} {'efficiency':>11}")
    base = None
    for k in ranks:
        r = torchrun_rate(members, k, steps)
        base = base or r / k
        print(f"{k:>5} {r:>12.0f} {r / (k * base):>10.0%}", flush=True)


if __name__ == "__main__":
    main()

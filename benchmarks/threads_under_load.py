"""Why gankit defaults to one torch thread: a step's time with 1 and 2 threads, on a quiet
machine and while another process keeps one core busy (as a second training run would).

    python benchmarks/threads_under_load.py [--preset seed] [--steps 300]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time

from gankit.config.resolve import resolve_config
from gankit.training.trainer import Trainer


def busy(stop_at: float) -> None:
    x = 0
    while time.time() < stop_at:
        x += 1


def ms_per_step(threads: int, preset: str, steps: int) -> float:
    trainer = Trainer.from_config(resolve_config(preset, overrides=[{"train": {"threads": threads}}]))
    for _ in range(30):
        trainer.step()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(steps):
            trainer.step()
        times.append((time.perf_counter() - start) / steps * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="seed")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    print(f"preset {args.preset}, median of 3 x {args.steps} steps, ms per step")
    print(f"{'threads':>8} {'quiet':>10} {'one core busy':>15}")
    for threads in (1, 2):
        quiet = ms_per_step(threads, args.preset, args.steps)
        load = multiprocessing.Process(target=busy, args=(time.time() + 600,), daemon=True)
        load.start()
        try:
            loaded = ms_per_step(threads, args.preset, args.steps)
        finally:
            load.terminate()
            load.join()
        print(f"{threads:>8} {quiet:>10.3f} {loaded:>15.3f}", flush=True)


if __name__ == "__main__":
    main()

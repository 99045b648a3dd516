"""What --tensorboard costs: the time spent in the TensorBoard observer against the training time.

Timing the observer itself, rather than two whole runs, keeps the figure readable on a shared
machine where another process can slow one run by a third. Prints the observer's seconds, the
run's training seconds (``elapsed_s``), the share, and the cost of one logged row and one image.

    python benchmarks/tensorboard_overhead.py [--steps 4000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gankit
from gankit.session.tensorboard import TensorBoardLog


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    args = parser.parse_args()
    spent = {"rows": 0.0, "images": 0.0, "other": 0.0}
    counts = {"rows": 0, "images": 0, "other": 0}
    on_step = TensorBoardLog.on_step

    def timed(self, trainer, stats, elapsed, last):
        step = trainer.step_count
        snapshot = self.snapshots.last is not None and self.snapshots.last["step"] == step
        kind = "images" if snapshot else "rows" if self.log.last_row.get("step") == step else "other"
        start = time.perf_counter()
        on_step(self, trainer, stats, elapsed, last)
        spent[kind] += time.perf_counter() - start
        counts[kind] += 1

    TensorBoardLog.on_step = timed
    with tempfile.TemporaryDirectory() as tmp:
        run = gankit.train(steps=args.steps, tensorboard=True, out=Path(tmp) / "r", figures=False)
        training = run.folder.metrics.read()[-1]["elapsed_s"]
    total = sum(spent.values())
    print(f"default preset, {args.steps} steps: training {training:.1f} s, "
          f"TensorBoard observer {total:.2f} s ({100 * total / training:.1f}%)")
    print(f"  {counts['rows']} logged rows: {1000 * spent['rows'] / max(counts['rows'], 1):.1f} ms each; "
          f"{counts['images']} snapshot steps (row + image): "
          f"{1000 * spent['images'] / max(counts['images'], 1):.0f} ms each; "
          f"other steps {1e6 * spent['other'] / max(counts['other'], 1):.0f} us each")


if __name__ == "__main__":
    main()

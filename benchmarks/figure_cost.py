"""The GIF's frames: drawn over axes kept from the first frame against drawn whole (§9).

Trains a default run with a snapshot every 200 steps (21 snapshots, no figures), then times
``figures.gif_frames`` and the same frames each drawn on a new figure, and prints the largest
mean pixel difference between the two. The whole `gankit plot` is timed beside them.

    python benchmarks/figure_cost.py [--out bench-out/figure-cost]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

import gankit
from gankit.evaluation import figures


def whole_frames(task, snapshots) -> list[np.ndarray]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    frames = []
    for snapshot in snapshots:
        fig = figures._figure(figsize=(6.4, 4.8), dpi=70)
        fig.subplots_adjust(**figures.SNAPSHOT_MARGINS)
        canvas = FigureCanvasAgg(fig)
        figures.draw_snapshot(fig.subplots(), task, snapshot)
        canvas.draw()
        frames.append(np.asarray(canvas.buffer_rgba())[..., :3].astype(int))
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench-out/figure-cost")
    args = parser.parse_args()
    run = gankit.train(out=args.out, overwrite=True, figures=False)
    snapshots, task = run.folder.snapshots.read(), run.trainer.task
    figures.gif_frames(task, snapshots[:2])  # matplotlib's first-use costs, outside the timing
    start = time.perf_counter()
    kept = figures.gif_frames(task, snapshots)
    kept_s = time.perf_counter() - start
    start = time.perf_counter()
    whole = whole_frames(task, snapshots)
    whole_s = time.perf_counter() - start
    diff = max(float(np.abs(np.asarray(a).astype(int) - b).mean()) for a, b in zip(kept, whole))
    print(f"{len(snapshots)} frames: over kept axes {kept_s:.2f} s, each drawn whole {whole_s:.2f} s; "
          f"largest mean pixel difference {diff:.4f} (of 255)")
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gankit", "plot", args.out], check=True, capture_output=True)
        print(f"gankit plot, whole process: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()

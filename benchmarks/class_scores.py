"""What the class-conditional benchmarks share (``conditional_digits.py``, ``conditional_folders.py``):
a timed whole ``gankit train`` process, the per-class scores of images asked for each class, and
their printed table.

Per class k: accuracy, the share of the images asked for as k that the reference classifier puts
in k, beside its ceiling (the classifier's accuracy on the held-out images of k); fd, the
Frechet distance in the classifier's feature space between those images and the held-out images
of k, beside its floor (the held-out images of k against the training images of k).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def timed_train(arguments: list[str]) -> float:
    """Seconds a whole ``gankit train ARGUMENTS`` process takes, as a user starts it."""
    command = [sys.executable, "-m", "gankit", "train", *arguments]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def class_scores(task: Any, classifier: Any, asked: Callable[[int], np.ndarray],
                 names: Sequence[Any]) -> tuple[float, list[dict[str, Any]]]:
    """The classifier's accuracy on the held-out images (the ceiling), and one row of scores per
    class; ``asked(k)``: uint8 ``[n, C, H, W]`` images asked for as class k."""
    from gankit.tasks.image_metrics import _encode, frechet_distance

    held = np.arange(len(task.train_index), len(task.images))
    labels_held = task.labels[held]
    predicted_held = classifier.probabilities(_encode(task.images[held])).argmax(axis=1)
    rows = []
    for k, name in enumerate(names):
        x = _encode(asked(k))
        accuracy = float(np.mean(classifier.probabilities(x).argmax(axis=1) == k))
        held_k = task.images[held[labels_held == k]]
        train_k = task.images[task.train_index[task.labels[task.train_index] == k]]
        real_k = classifier.features(_encode(held_k))
        rows.append({"class": name, "accuracy": accuracy,
                     "ceiling": float(np.mean(predicted_held[labels_held == k] == k)),
                     "fd": frechet_distance(real_k, classifier.features(x)),
                     "fd_floor": frechet_distance(real_k, classifier.features(_encode(train_k)))})
    return float(np.mean(predicted_held == labels_held)), rows


def print_classes(rows: list[dict[str, Any]]) -> None:
    print("   class    " + " ".join(f"{str(r['class']):>6.6s}" for r in rows))
    print("   accuracy " + " ".join(f"{r['accuracy']:6.3f}" for r in rows))
    print("   ceiling  " + " ".join(f"{r['ceiling']:6.3f}" for r in rows))
    print("   fd       " + " ".join(f"{r['fd']:6.2f}" for r in rows))
    print("   fd floor " + " ".join(f"{r['fd_floor']:6.2f}" for r in rows))


def arguments(description: str, seeds: str, out: str) -> argparse.Namespace:
    """The class-conditional benchmarks' command line: seeds, images per class, settings passed
    to ``gankit train``, the output folder."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", default=seeds, help="comma-separated run seeds")
    parser.add_argument("--per-class", type=int, default=200, help="images asked for per class")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to gankit train (repeatable)")
    parser.add_argument("--out", default=out)
    return parser.parse_args()


def run_seeds(args: argparse.Namespace, out: Path, train: Callable[[Path, int, list[str]], float],
              score: Callable[[Path, int], dict[str, Any]],
              describe: Callable[[dict[str, Any]], str], figure_name: str) -> None:
    """Per seed: train (timed), score, print the seed's line and its classes; then the first
    seed's run's ``by_condition`` figure and every result in ``results.json``."""
    extra = [item for pair in args.set for item in ("--set", pair)]
    results = []
    for seed in (int(s) for s in args.seeds.split(",")):
        seconds = train(out / f"seed{seed}", seed, extra)
        result = {"seed": seed, "train_s": seconds, **score(out / f"seed{seed}", args.per_class)}
        results.append(result)
        print(f"seed {seed}: {seconds:.0f} s; {describe(result)}")
        print_classes(result["classes"])
    import gankit

    run = gankit.Run.load(out / f"seed{results[0]['seed']}")
    figure = out / figure_name
    run.task.condition_figure(lambda condition, n, seed: run.sample(n, seed=seed, condition=condition),
                              figure)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"figure: {figure}; numbers: {out / 'results.json'}")

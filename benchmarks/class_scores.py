"""What the class-conditional benchmarks share (``conditional_digits.py``, ``conditional_folders.py``):
a timed whole ``gankit train`` process, the per-class scores of images asked for each class, and
their printed table.

Per class k: accuracy, the share of the images asked for as k that the reference classifier puts
in k, beside its ceiling (the classifier's accuracy on the held-out images of k); fd, the
Frechet distance in the classifier's feature space between those images and the held-out images
of k, beside its floor (the held-out images of k against the training images of k).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
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

"""An image folder on request: a folder of one sub-folder per class, ``--condition-on class``.

The folder is made here, offline: scikit-learn's 1,797 handwritten digits, upscaled to 16x16
(bilinear) and tinted, each image with an ink colour of its own (a random hue, so the class is
in the shape, not the colour) on a dark background, saved as RGB PNG files in ten sub-folders
named ``zero`` ... ``nine`` (the classes, sorted by name: eight, five, four, nine, one, ...).

For each seed, trains the folder's preset as a user starts it (a whole
``gankit train --data DIR/ --condition-on class --set data.size=16`` process, timed), then asks
the run for ``--per-class`` images of each class by its sub-folder's name and reports:

- conditional accuracy: the share of them that the run's reference classifier (trained on the
  folder's training labels, cached in the run folder) puts in the class asked for, over all
  classes and per class, against that classifier's own accuracy on the held-out images (its
  ceiling); classes reached: those within 0.05 of their own ceiling;
- per-class fd: the Frechet distance, in the classifier's feature space, between the images
  asked for as class k and the held-out images of class k, beside its floor (the held-out
  images of class k against the training images of class k).

Writes ``folder_by_class.png`` (the run's ``by_condition.png``: one row per class, labelled by
name) and ``results.json``. The aim is a few minutes a run on 2 CPU cores.

    python benchmarks/conditional_folders.py --seeds 0,1,2 --out bench-out/conditional_folders
"""

from __future__ import annotations

import colorsys
import json
from pathlib import Path

import numpy as np
import torch

from class_scores import arguments, class_scores, run_seeds, timed_train

NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def make_folder(folder: Path, seed: int = 0) -> int:
    """The tinted digits as ``folder/NAME/NNNN.png`` (made once; the same files for a seed)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    from gankit.tasks.pixels import upscale

    bunch = load_digits()
    if folder.is_dir() and sum(1 for _ in folder.rglob("*.png")) == len(bunch.images):
        return len(bunch.images)
    rng = np.random.default_rng(seed)
    grey = upscale(np.rint(bunch.images * (255 / 16)).astype(np.uint8)[:, None], 16)[:, 0] / 255.0
    for name in NAMES:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for i, (ink, label) in enumerate(zip(grey, bunch.target)):
        colour = np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.6, 1.0), 1.0))
        background = rng.uniform(0, 0.15, 3)
        pixels = background + ink[..., None] * (colour - background)
        Image.fromarray(np.rint(255 * pixels).astype(np.uint8)).save(folder / NAMES[label] / f"{i:04d}.png")
    return len(bunch.images)


def train(folder: Path, out: Path, seed: int, extra: list[str]) -> float:
    return timed_train(["--data", f"{folder}/", "--condition-on", "class", "--set", "data.size=16", "--seed",
                        str(seed), "--out", str(out), "--overwrite", "--no-figures", *extra])


def score(run_dir: Path, per_class: int) -> dict[str, object]:
    import gankit

    run = gankit.Run.load(run_dir)
    task = run.task
    names = task.class_names
    ceiling, rows = class_scores(
        task, task.reference_classifier(),
        lambda k: np.moveaxis(run.sample(per_class, seed=k, condition={"class": names[k]}), -1, 1), names)
    summary = json.loads((run_dir / "summary.json").read_text())
    return {"ceiling": ceiling, "accuracy": float(np.mean([r["accuracy"] for r in rows])),
            "run_conditional_accuracy": summary.get("conditional_accuracy"), "classes": rows}


def describe(result: dict[str, object]) -> str:
    rows = result["classes"]
    reached = sum(r["accuracy"] >= r["ceiling"] - 0.05 for r in rows)
    return (f"conditional accuracy {result['accuracy']:.3f} (the run's last evaluation: "
            f"{result['run_conditional_accuracy']:.3f}), reference classifier {result['ceiling']:.3f} on "
            f"held-out images; classes within 0.05 of their ceiling: {reached}/{len(rows)}; fd within 2x "
            f"its floor: {sum(r['fd'] <= 2 * r['fd_floor'] for r in rows)}/{len(rows)}")


def main() -> None:
    args = arguments(__doc__.splitlines()[0], "0,1,2", "bench-out/conditional_folders")
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "tinted_digits"
    count = make_folder(folder)
    print(f"folder: {folder} ({count} RGB 16x16 images in {len(NAMES)} sub-folders)")
    run_seeds(args, out, lambda run_dir, seed, extra: train(folder, run_dir, seed, extra), score, describe,
              "folder_by_class.png")


if __name__ == "__main__":
    main()

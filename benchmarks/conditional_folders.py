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

import argparse
import colorsys
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

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
    command = [sys.executable, "-m", "gankit", "train", "--data", f"{folder}/", "--condition-on", "class",
               "--set", "data.size=16", "--seed", str(seed), "--out", str(out), "--overwrite", "--no-figures",
               *extra]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def score(run_dir: Path, per_class: int) -> dict[str, object]:
    import gankit
    from gankit.tasks.image_metrics import _encode, frechet_distance

    run = gankit.Run.load(run_dir)
    task = run.task
    classifier = task.reference_classifier()
    held = np.arange(len(task.train_index), len(task.images))
    labels_held = task.labels[held]
    ceiling = classifier.held_out_accuracy(task.images[held], labels_held)
    predicted_held = classifier.probabilities(_encode(task.images[held])).argmax(axis=1)
    rows = []
    for k, name in enumerate(task.class_names):
        images = run.sample(per_class, seed=k, condition={"class": name})  # [n, H, W, 3]
        x = _encode(np.moveaxis(images, -1, 1))
        accuracy = float(np.mean(classifier.probabilities(x).argmax(axis=1) == k))
        held_k = task.images[held[labels_held == k]]
        train_k = task.images[task.train_index[task.labels[task.train_index] == k]]
        real_k = classifier.features(_encode(held_k))
        fd = frechet_distance(real_k, classifier.features(x))
        floor = frechet_distance(real_k, classifier.features(_encode(train_k)))
        ceiling_k = float(np.mean(predicted_held[labels_held == k] == k))
        rows.append({"class": name, "accuracy": accuracy, "ceiling": ceiling_k, "fd": fd, "fd_floor": floor})
    summary = json.loads((run_dir / "summary.json").read_text())
    return {"ceiling": ceiling, "accuracy": float(np.mean([r["accuracy"] for r in rows])),
            "run_conditional_accuracy": summary.get("conditional_accuracy"), "classes": rows}


def figure(run_dir: Path, path: Path) -> None:
    import gankit

    run = gankit.Run.load(run_dir)
    run.task.condition_figure(lambda condition, n, seed: run.sample(n, seed=seed, condition=condition), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated run seeds")
    parser.add_argument("--per-class", type=int, default=200, help="images asked for per class")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to gankit train (repeatable)")
    parser.add_argument("--out", default="bench-out/conditional_folders")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "tinted_digits"
    count = make_folder(folder)
    print(f"folder: {folder} ({count} RGB 16x16 images in {len(NAMES)} sub-folders)")
    extra = [item for pair in args.set for item in ("--set", pair)]
    results = []
    for seed in (int(s) for s in args.seeds.split(",")):
        seconds = train(folder, out / f"seed{seed}", seed, extra)
        result = {"seed": seed, "train_s": seconds, **score(out / f"seed{seed}", args.per_class)}
        results.append(result)
        rows = result["classes"]
        reached = sum(r["accuracy"] >= r["ceiling"] - 0.05 for r in rows)
        print(f"seed {seed}: {seconds:.0f} s; conditional accuracy {result['accuracy']:.3f} (the run's last "
              f"evaluation: {result['run_conditional_accuracy']:.3f}), reference classifier "
              f"{result['ceiling']:.3f} on held-out images; classes within 0.05 of their ceiling: "
              f"{reached}/{len(rows)}; fd within 2x its floor: "
              f"{sum(r['fd'] <= 2 * r['fd_floor'] for r in rows)}/{len(rows)}")
        print("   class    " + " ".join(f"{r['class']:>6.6s}" for r in rows))
        print("   accuracy " + " ".join(f"{r['accuracy']:6.3f}" for r in rows))
        print("   ceiling  " + " ".join(f"{r['ceiling']:6.3f}" for r in rows))
        print("   fd       " + " ".join(f"{r['fd']:6.2f}" for r in rows))
        print("   fd floor " + " ".join(f"{r['fd_floor']:6.2f}" for r in rows))
    figure(out / f"seed{results[0]['seed']}", out / "folder_by_class.png")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"figure: {out / 'folder_by_class.png'}; numbers: {out / 'results.json'}")


if __name__ == "__main__":
    main()

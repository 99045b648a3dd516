"""The digits on request: a dcgan conditioned on the class (``--condition-on class``).

For each seed, trains the digits preset as a user starts it (a whole ``gankit train`` process,
timed), then asks the run for ``--per-class`` images of each class and reports:

- conditional accuracy: the share the reference classifier puts in the class asked for, over
  all classes and per class, against that classifier's own accuracy on the held-out images (its
  ceiling; target: within 0.05, on 10 of 10 classes);
- per-class fd: the Frechet distance, in the classifier's feature space, between the images
  asked for as class k and the held-out images of class k, beside its floor (the held-out
  images of class k against the training images of class k).

Writes ``digits_by_class.png``: one row per class asked for (0 at the top), 4x enlarged. The
target is 10 minutes on 2 CPU cores.

    python benchmarks/conditional_digits.py --seeds 0,1,2,3,4 --out runs/bench_conditional_digits
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch


def train(out: Path, seed: int, extra: list[str]) -> float:
    command = [sys.executable, "-m", "gankit", "train", "--data", "digits", "--condition-on", "class",
               "--seed", str(seed), "--out", str(out), "--overwrite", "--no-figures", *extra]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def score(run_dir: Path, per_class: int) -> dict[str, object]:
    import gankit
    from gankit.tasks.image_metrics import _encode, frechet_distance

    run = gankit.Run.load(run_dir)
    task = run.task
    classifier = task.scorer().space
    held = np.arange(len(task.train_index), len(task.images))
    labels_held = task.labels[held]
    predicted_held = classifier.probabilities(_encode(task.images[held])).argmax(axis=1)
    ceiling = float(np.mean(predicted_held == labels_held))
    rows = []
    for k in range(10):
        images = run.sample(per_class, seed=k, condition={"class": k})[:, None]
        x = _encode(images)
        accuracy = float(np.mean(classifier.probabilities(x).argmax(axis=1) == k))
        held_k = task.images[held[labels_held == k]]
        train_k = task.images[task.train_index[task.labels[task.train_index] == k]]
        real_k = classifier.features(_encode(held_k))
        fd = frechet_distance(real_k, classifier.features(x))
        floor = frechet_distance(real_k, classifier.features(_encode(train_k)))
        ceiling_k = float(np.mean(predicted_held[labels_held == k] == k))
        rows.append({"class": k, "accuracy": accuracy, "ceiling": ceiling_k, "fd": fd, "fd_floor": floor})
    return {"ceiling": ceiling, "accuracy": float(np.mean([r["accuracy"] for r in rows])), "classes": rows}


def figure(run_dir: Path, path: Path) -> None:
    from PIL import Image

    import gankit
    from gankit.tasks.pixels import save_grid

    run = gankit.Run.load(run_dir)
    images = np.concatenate([run.sample(10, seed=100 + k, condition={"class": k}) for k in range(10)])
    save_grid(images, path, 10)
    with Image.open(path) as small:  # 8x8 digits: four times larger, pixels kept sharp
        small.resize((small.width * 4, small.height * 4), Image.NEAREST).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0", help="comma-separated run seeds")
    parser.add_argument("--per-class", type=int, default=200, help="images asked for per class")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to gankit train (repeatable)")
    parser.add_argument("--out", default="runs/bench_conditional_digits")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    extra = [item for pair in args.set for item in ("--set", pair)]
    results = []
    for seed in (int(s) for s in args.seeds.split(",")):
        seconds = train(out / f"seed{seed}", seed, extra)
        result = {"seed": seed, "train_s": seconds, **score(out / f"seed{seed}", args.per_class)}
        results.append(result)
        close = sum(r["accuracy"] >= r["ceiling"] - 0.05 for r in result["classes"])
        print(f"seed {seed}: {seconds:.0f} s; conditional accuracy {result['accuracy']:.3f}, reference "
              f"classifier {result['ceiling']:.3f} on held-out images; classes within 0.05: {close}/10")
        print("   class    " + " ".join(f"{r['class']:6d}" for r in result["classes"]))
        print("   accuracy " + " ".join(f"{r['accuracy']:6.3f}" for r in result["classes"]))
        print("   ceiling  " + " ".join(f"{r['ceiling']:6.3f}" for r in result["classes"]))
        print("   fd       " + " ".join(f"{r['fd']:6.2f}" for r in result["classes"]))
        print("   fd floor " + " ".join(f"{r['fd_floor']:6.2f}" for r in result["classes"]))
    figure(out / f"seed{results[0]['seed']}", out / "digits_by_class.png")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"figure: {out / 'digits_by_class.png'}; numbers: {out / 'results.json'}")


if __name__ == "__main__":
    main()

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
from pathlib import Path

import numpy as np
import torch

from class_scores import class_scores, print_classes, timed_train


def train(out: Path, seed: int, extra: list[str]) -> float:
    return timed_train(["--data", "digits", "--condition-on", "class", "--seed", str(seed), "--out", str(out),
                        "--overwrite", "--no-figures", *extra])


def score(run_dir: Path, per_class: int) -> dict[str, object]:
    import gankit

    run = gankit.Run.load(run_dir)
    ceiling, rows = class_scores(run.task, run.task.scorer().space,
                                 lambda k: run.sample(per_class, seed=k, condition={"class": k})[:, None],
                                 range(10))
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
        print_classes(result["classes"])
    figure(out / f"seed{results[0]['seed']}", out / "digits_by_class.png")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"figure: {out / 'digits_by_class.png'}; numbers: {out / 'results.json'}")


if __name__ == "__main__":
    main()

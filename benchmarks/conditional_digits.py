"""The digits on request: a dcgan conditioned on the class (``--condition-on class``).

For each seed, trains the digits preset as a user starts it (a whole ``gankit train`` process,
timed), then asks the run for ``--per-class`` images of each class and reports:

- conditional accuracy: the share the reference classifier puts in the class asked for, over
  all classes and per class, against that classifier's own accuracy on the held-out images (its
  ceiling; target: within 0.05, on 10 of 10 classes);
- per-class fd: the Frechet distance, in the classifier's feature space, between the images
  asked for as class k and the held-out images of class k, beside its floor (the held-out
  images of class k against the training images of class k).

Writes ``digits_by_class.png`` (the run's ``by_condition.png``: one row per class asked for, 0 at
the top, enlarged) and ``results.json``. The target is 10 minutes on 2 CPU cores.

    python benchmarks/conditional_digits.py --seeds 0,1,2,3,4 --out runs/bench_conditional_digits
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from class_scores import arguments, class_scores, run_seeds, timed_train


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


def describe(result: dict[str, object]) -> str:
    close = sum(r["accuracy"] >= r["ceiling"] - 0.05 for r in result["classes"])
    return (f"conditional accuracy {result['accuracy']:.3f}, reference classifier {result['ceiling']:.3f} "
            f"on held-out images; classes within 0.05: {close}/10")


def main() -> None:
    args = arguments(__doc__.splitlines()[0], "0", "runs/bench_conditional_digits")
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run_seeds(args, out, train, score, describe, "digits_by_class.png")


if __name__ == "__main__":
    main()

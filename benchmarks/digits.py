"""Digits at equal wall-clock time: the `digits` preset (dcgan) against an MLP GAN on the
flattened 8x8 images, each for a fixed budget of training seconds per seed.

Each run is a full `gankit train` (progress bar and figures off) with train.max_seconds set and
no step limit; the clock is the run's own `elapsed_s` in metrics.jsonl (evaluations included,
every 250 steps). It prints, per run, the first time fd <= 2 x fd_floor with classes_covered
10/10 and class_kl <= 0.05 (the digits' success), and the end values beside their floors.

    python benchmarks/digits.py [--seconds 60] [--seeds 1] [--first-seed 0] [--no-mlp]
        [--out bench-out/digits]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import gankit
from gankit.config import shortcut_overrides
from gankit.config.resolve import resolve_config, validate

LOGGING = {"log.eval_every": 250, "log.log_every": 50, "log.snapshot_every": 1000,
           "log.checkpoint_every": 100000}
MLP = {"arch": "mlp", "options": {}, "g_hidden": [256, 256], "d_hidden": [256, 256],
       "activation": "leaky_relu"}


def first_success(rows: list[dict]) -> dict | None:
    for row in rows:
        if "fd" in row and row["fd"] <= 2 * row["fd_floor"] and row["classes_covered"] == 10 \
                and row["class_kl"] <= 0.05:
            return row
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="training seconds per run")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0, help="the first of the seeds")
    parser.add_argument("--no-mlp", action="store_true", help="skip the MLP comparison")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--out", default="bench-out/digits")
    args = parser.parse_args()
    variants = {"dcgan (digits preset)": {}}
    if not args.no_mlp:
        variants["mlp 256x2, same optimiser"] = MLP
    for label, extra in variants.items():
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            out = Path(args.out) / f"{'mlp' if extra else 'dcgan'}-seed{seed}"
            config = resolve_config("digits", None, shortcut_overrides(
                seed=seed, device=args.device,
                set={**LOGGING, "train.steps": 0, "train.max_seconds": args.seconds}))
            # the model section replaced, not merged: the MLP takes none of dcgan's options
            config = validate(dataclasses.replace(config, model=dataclasses.replace(config.model, **extra)))
            run = gankit.train(config, out=out, overwrite=True, figures=False)
            rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            hit = first_success(rows)
            s = run.summary
            met = "never" if hit is None else f"{hit['elapsed_s']:.0f} s (step {hit['step']})"
            rate = s["step"] * config.train.batch_size / rows[-1]["elapsed_s"]
            print(f"{label}, seed {seed}, {args.device}: {s['step']} steps in {args.seconds:g} s "
                  f"({rate:,.0f} generated images/s in training); success reached: {met}\n"
                  f"  end: fd {s['fd']:.2f} (floor {s['fd_floor']:.2f}), classes_covered "
                  f"{s['classes_covered']}/10 (floor {s['classes_covered_floor']}), class_kl "
                  f"{s['class_kl']:.3f} (floor {s['class_kl_floor']:.3f}), confidence {s['confidence']:.3f} "
                  f"(floor {s['confidence_floor']:.3f}), feature recall {s['feature_recall']:.3f} "
                  f"(floor {s['feature_recall_floor']:.3f})", flush=True)


if __name__ == "__main__":
    main()

"""The ``gankit`` command: a thin layer that turns arguments into calls of the Python API."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

from gankit import __version__
from gankit.checkpoint import atomic_write_bytes
from gankit.compare import compare, grid_variants, parse_variant
from gankit.config import PRESETS, parse_override, resolve_config, shortcut_overrides
from gankit.errors import GankitError
from gankit.memberstats import MemberMetrics
from gankit.metrics import METRICS
from gankit.objectives import OBJECTIVES
from gankit.run import Interrupted, Run, resume, train
from gankit.rundir import jsonable
from gankit.tasks import TASKS


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gankit", description="Train generative adversarial networks and measure them exactly.")
    parser.add_argument("--version", action="version", version=f"gankit {__version__}")
    parser.add_argument("--debug", dest="debug_anywhere", action="store_true",
                        help="show the traceback of an error (also accepted after COMMAND)")
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("train", parents=[common], help="train a GAN (default: the parabola task)",
                            description="Train a GAN. Settings come from a preset, then --config, "
                            "then the flags; the resolved config is saved in the run folder.")
    p.add_argument("--data", choices=TASKS.names(), help="dataset (default: parabola)")
    p.add_argument("--preset", default="default", choices=list(PRESETS),
                   help="starting settings: 'default' (tuned) or 'seed' (the seed document's "
                   "program); default: %(default)s")
    p.add_argument("--loss", choices=OBJECTIVES.names(), help="objective")
    p.add_argument("--steps", type=_positive_int, help="training iterations")
    p.add_argument("--batch-size", type=_positive_int, help="real and fake samples per step")
    p.add_argument("--d-steps", type=_positive_int, help="discriminator steps per generator step (k)")
    p.add_argument("--lr", type=float, help="learning rate of both networks")
    p.add_argument("--lr-g", type=float, help="generator learning rate")
    p.add_argument("--lr-d", type=float, help="discriminator learning rate")
    p.add_argument("--ema", type=float, help="decay of the generator's weight average (0 = off)")
    p.add_argument("--seed", type=int, help="random seed of the run (of its first member)")
    p.add_argument("--seeds", type=_positive_int,
                   help="train this many independent members at once (seeds SEED, SEED+1, ...)")
    p.add_argument("--device", help="cpu, cuda or cuda:N")
    p.add_argument("--threads", type=int,
                   help="torch CPU threads (default 1, fastest for small networks; 0 = torch's default)")
    p.add_argument("--on-divergence", choices=["stop", "rollback"],
                   help="on a NaN/inf loss: stop (default) or roll back to the last checkpoint "
                   "with halved learning rates (at most train.max_rollbacks times)")
    p.add_argument("--name", help="run name (default folder: runs/NAME-TIMESTAMP)")
    p.add_argument("--config", metavar="FILE.toml", help="a config file, e.g. a run's config.toml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any config key, e.g. --set model.g_hidden=[256,256] (repeatable)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/NAME-TIMESTAMP)")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint")
    p.add_argument("--live", action="store_true", help="show the figure updating in a window")
    p.add_argument("--no-figures", action="store_true", help="skip the figures at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = commands.add_parser(
        "compare", parents=[common], help="compare configurations over several seeds at an equal budget",
        description="Train each configuration for --seeds seeds at the same budget and write a table "
        "(median and IQR of the task's metrics, success share) as Markdown and CSV, and a figure.")
    p.add_argument("--variant", action="append", default=[], metavar="'NAME: KEY=VALUE ...'",
                   help="one configuration, e.g. 'hinge: train.loss=hinge model.spectral_norm=true'")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a grid axis; several --vary give their cartesian product")
    p.add_argument("--data", choices=TASKS.names(), help="dataset for every configuration")
    p.add_argument("--preset", default="default", choices=list(PRESETS), help="base settings")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting for every configuration")
    p.add_argument("--seeds", type=_positive_int, default=5, help="seeds per configuration (default 5)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=_positive_int, help="budget: training steps per configuration")
    budget.add_argument("--seconds", type=float, help="budget: training seconds per configuration")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the table, figure and runs")
    p.add_argument("--overwrite", action="store_true", help="replace runs already in DIR")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = commands.add_parser("sample", parents=[common], help="write generated samples to a file")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--n", type=_positive_int, default=1000, help="how many (default: %(default)s)")
    p.add_argument("--out", required=True, metavar="FILE", help="output file, .npy or .csv")
    p.add_argument("--seed", type=int, help="seed of the noise (default: fresh noise)")
    p.add_argument("--member", type=int, default=0, help="which member of a --seeds run (default: 0)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the run's own)")

    p = commands.add_parser("eval", parents=[common], help="recompute a run's metrics from its checkpoint")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--n", type=_positive_int, help="generated samples (default: the run's eval size)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the run's own)")
    p.add_argument("--task-only", action="store_true",
                   help="only the task's own metrics (skip MMD, sliced W1, precision/recall, "
                   "density/coverage and their noise floors)")

    p = commands.add_parser("plot", parents=[common], help="redraw a run's figures")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the run's own)")

    p = commands.add_parser(
        "theory", parents=[common], help="check the seed's equations numerically, with figures",
        description="Three experiments on 1-D data with known densities: the optimal discriminator "
        "D* = p_r / (p_r + p_g), the value of the game -log 4 + 2 JSD, and training towards "
        "D = 1/2 with the minimax and non-saturating losses (docs/THEORY.md).")
    p.add_argument("--out", default="runs/theory", metavar="DIR", help="output folder (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds (for a first look)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _print_metrics(metrics: dict) -> None:
    """Scalars one per line; with several members, each metric's median and spread."""
    record = MemberMetrics.from_row(metrics)
    for key, value in metrics.items():
        if isinstance(value, dict):
            continue
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        if record.members > 1 and key in record.values:
            s = record.spread(key)
            shown += f"   (IQR {s.q1:.4f} to {s.q3:.4f}, range {s.min:.4f} to {s.max:.4f})"
        print(f"  {key:<18} {shown}")


RESUME_KEEPS = ("data", "preset", "loss", "batch_size", "d_steps", "lr", "lr_g", "lr_d", "ema", "seed",
                "seeds", "device", "threads", "on_divergence", "name", "config", "out")


def cmd_train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    common = {"progress": not args.quiet, "live": args.live, "figures": not args.no_figures}
    if args.resume:
        changed = [f"--{k.replace('_', '-')}" for k in RESUME_KEEPS
                   if getattr(args, k) not in (None, "default")] + (["--set"] if args.set else [])
        if changed:
            raise GankitError(f"--resume continues a run with its own config; {', '.join(changed)} "
                              "cannot be changed (only --steps can extend it)")
        run = resume(args.resume, steps=args.steps, **common)
    else:
        overrides = shortcut_overrides(
            data=args.data, loss=args.loss, steps=args.steps, batch_size=args.batch_size,
            d_steps=args.d_steps, lr=args.lr, lr_g=args.lr_g, lr_d=args.lr_d, ema=args.ema,
            seed=args.seed, seeds=args.seeds, device=args.device, threads=args.threads, name=args.name,
            on_divergence=args.on_divergence)
        overrides += [parse_override(item) for item in args.set]
        config = resolve_config(args.preset, args.config, overrides)
        run = train(config, out=args.out, overwrite=args.overwrite, **common)
    print(f"trained {run.summary['step']} steps in {time.perf_counter() - started:.1f} s; "
          f"run folder: {run.path}")
    _print_metrics(run.summary)
    if not args.no_figures:
        print(f"figures: {run.folder.figures}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix not in (".npy", ".csv"):
        raise GankitError(f"--out must end in .npy or .csv, got '{out.name}'")
    if not out.parent.is_dir():
        raise GankitError(f"cannot write '{out}': folder '{out.parent}' does not exist")
    samples = Run.load(args.run_dir, args.device).sample(args.n, args.seed, args.member)
    if out.suffix == ".npy":
        import io

        buffer = io.BytesIO()
        np.save(buffer, samples)
        data = buffer.getvalue()
    else:
        lines = [",".join(f"{v:.7g}" for v in row) for row in samples]
        data = ("\n".join(lines) + "\n").encode()
    try:
        atomic_write_bytes(out, data)
    except OSError as exc:
        raise GankitError(f"cannot write '{out}': {exc.strerror}") from None
    print(f"wrote {args.n} samples of size {samples.shape[1]} to {out}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    run = Run.load(args.run_dir, args.device)
    metrics = run.evaluate(args.n, general=not args.task_only)
    if args.json:
        print(json.dumps(jsonable({"step": run.trainer.step_count, **metrics}), indent=2))
        return 0
    members = run.trainer.members
    print(f"{run.path} at step {run.trainer.step_count}" + (f", {members} members:" if members > 1 else ":"))
    _print_metrics(metrics)
    if members > 1:
        per_member = metrics["members"]
        general = set(METRICS.names())
        keys = [k for k in per_member if k.removesuffix("_floor") not in general and k != "diverged"]
        print("  member " + " ".join(f"{k:>18}" for k in keys))
        for i in range(members):
            print(f"  {i:>6} " + " ".join(f"{per_member[k][i]:>18.4f}" for k in keys))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    for path in Run.load(args.run_dir, args.device).plot():
        print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    variants = [parse_variant(text) for text in args.variant] + grid_variants(args.vary)
    base = shortcut_overrides(data=args.data) + [parse_override(item) for item in args.set]
    rows = compare(variants, args.out, preset=args.preset, base=base, seeds=args.seeds,
                   seed=args.seed, steps=args.steps, seconds=args.seconds,
                   overwrite=args.overwrite, progress=not args.quiet)
    print((Path(args.out) / "comparison.md").read_text(), end="")
    print(f"{len(rows)} configurations; table: {Path(args.out) / 'comparison.md'} (and .csv), "
          f"figure: {Path(args.out) / 'comparison.png'}")
    return 0


def cmd_theory(args: argparse.Namespace) -> int:
    from gankit.theory import run_theory

    started = time.perf_counter()
    result = run_theory(Path(args.out), quick=args.quick, progress=not args.quiet)
    optimal, value, training = result["optimal_discriminator"], result["value_of_game"], result["training"]
    elapsed = time.perf_counter() - started
    print(f"theory experiments done in {elapsed:.1f} s; results in {Path(args.out) / 'theory.json'}")
    for name, part in (("optimal discriminator", optimal), ("value of the game", value),
                       ("training towards equilibrium", training)):
        numbers = {k: v for k, v in part.items() if isinstance(v, float)}
        shown = ", ".join(f"{k} {v:.4f}" for k, v in list(numbers.items())[:3])
        print(f"  {name:<30} {'target met' if part['met'] else 'TARGET MISSED'}: {shown}")
    return 0


COMMANDS = {"train": cmd_train, "compare": cmd_compare, "sample": cmd_sample, "eval": cmd_eval,
            "plot": cmd_plot, "theory": cmd_theory}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except Interrupted as exc:
        print(f"gankit: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # before training started or after it ended: nothing to save
        print("gankit: interrupted", file=sys.stderr)
        return 130
    except GankitError as exc:
        if args.debug or args.debug_anywhere:
            raise
        print(f"gankit: error: {exc}", file=sys.stderr)
        return 2

"""The ``gankit`` command: a thin layer that turns arguments into calls of the Python API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

# Only light modules at import: torch and matplotlib load when a command needs them, so that
# ``gankit --help`` and a mistyped flag are answered at once.
from gankit import __version__
from gankit.config import (
    PRESET_HELP,
    PRESETS,
    SHORTCUTS,
    config_from_dict,
    merge,
    parse_override,
    shortcut_overrides,
)
from gankit.core.errors import GankitError, did_you_mean

if TYPE_CHECKING:
    from gankit.core.memberstats import MemberMetrics
    from gankit.evaluation.refine import RefineSettings
    from gankit.tasks import Task


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error instead of the whole usage block, and a did-you-mean
    hint for a mistyped flag, as config keys have."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            options = _option_strings(self, getattr(parsed, "command", None))
            shown = [e + did_you_mean(e.partition("=")[0], options) if e.startswith("-") else e
                     for e in extras]
            self.error(f"unrecognized arguments: {' '.join(shown)}")
        return parsed


def _option_strings(parser: argparse.ArgumentParser, command: str | None) -> list[str]:
    """The flags of ``command``'s parser (or of ``parser`` itself without a command)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            parser = action.choices[command]
    return [option for action in parser._actions for option in action.option_strings]


TRAIN_EPILOG = """\
presets (--preset; without it the dataset's own: ring -> ring, grid -> grid, digits -> digits,
IMAGE_DIR/ -> images, a table file -> table, else default):
{presets}

examples:
  gankit train                                   the tuned default run on the curve task
  gankit train --data ring                       the 8-mode ring with the ring preset
  gankit train --data digits                     a convolutional GAN on the bundled 8x8 digits
  gankit train --data my_pictures/ --set data.size=32   your own PNG/JPEG files (or FILE.npy)
  gankit train --loss minimax --lr 2e-4 --steps 500 --out runs/mine
  gankit train --g-hidden 256,256 --set train.betas_g=[0.0,0.999]   any config key with --set
  gankit train --config runs/mine/config.toml --out runs/again      repeat a run exactly
  gankit train --resume runs/mine --steps 800    continue a run, here to 800 steps in all
  gankit train --data ring --dry-run             print the resolved config.toml and stop
"""

# The sections of ``gankit train --help``: where the settings come from, then the table's groups.
GROUPS = {"settings": "where the settings come from", "data": "data", "model": "model",
          "training": "training", "logging": "logging", "output": "output"}


def _add_train_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    presets = "\n".join(f"  {name:<8} {text}" for name, text in PRESET_HELP.items())
    p = commands.add_parser(
        "train", parents=[common], help="train a GAN (default: the parabola task)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TRAIN_EPILOG.format(presets=presets),
        description="Train a GAN. Settings come from a preset, then --config, then the flags and "
        "--set (later wins); the resolved config is saved as config.toml in the run folder.")
    groups = {key: p.add_argument_group(title) for key, title in GROUPS.items()}
    g = groups["settings"]
    g.add_argument("--preset", choices=list(PRESETS), help="starting settings (see below); "
                   "default: the dataset's own")
    g.add_argument("--config", metavar="FILE.toml", help="a config file, e.g. a run's config.toml")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any config key, e.g. --set model.g_hidden=[256,256] (repeatable)")
    g.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint")
    g.add_argument("--dry-run", action="store_true",
                   help="print the resolved config.toml and exit without training or writing anything")
    for shortcut in SHORTCUTS:  # every shortcut flag comes from the one table in gankit.config
        # type=str: the value is parsed and checked by the config, exactly as --set's would be.
        bare = {} if shortcut.bare is None else {"nargs": "?", "const": shortcut.bare}
        groups[shortcut.group].add_argument(shortcut.flag, dest=shortcut.name, metavar=shortcut.metavar,
                                            help=shortcut.help, **bare)
    g = groups["logging"]
    g.add_argument("--live", action="store_true", help="show the figure updating in a window")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g = groups["output"]
    g.add_argument("--out", metavar="DIR", help="run folder (default: runs/NAME-TIMESTAMP)")
    g.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    g.add_argument("--no-figures", action="store_true", help="skip the figures at the end")
    g.add_argument("--wait-figures", action="store_true",
                   help="draw the figures before returning (default: in a background process, "
                        "so the results come back a few seconds sooner)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gankit", description="Train generative adversarial networks and measure them exactly.")
    parser.add_argument("--version", action="version", version=f"gankit {__version__}")
    parser.add_argument("--debug", dest="debug_anywhere", action="store_true",
                        help="show the traceback of an error (also accepted after COMMAND)")
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train_parser(commands, common)

    p = commands.add_parser(
        "compare", parents=[common], help="compare configurations over several seeds at an equal budget",
        description="Train each configuration for --seeds seeds at the same budget and write a table "
        "(median and IQR of the task's metrics, success share) as Markdown and CSV, and a figure.")
    p.add_argument("--variant", action="append", default=[], metavar="'NAME: KEY=VALUE ...'",
                   help="one configuration, e.g. 'hinge: train.loss=hinge model.spectral_norm=true'")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a grid axis; several --vary give their cartesian product")
    p.add_argument("--data", metavar="NAME", help="dataset for every configuration (default: parabola)")
    p.add_argument("--preset", choices=list(PRESETS), help="base settings (default: the dataset's own)")
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
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output file, .npy or .csv (with a header), or DIR/ for PNG files (image runs); "
                   "a table run writes .csv or .tsv with its own columns")
    p.add_argument("--seed", type=int, help="seed of the noise (default: fresh noise)")
    p.add_argument("--member", type=int, default=0, help="which member of a --seeds run (default: 0)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the run's own)")
    _add_refine_arguments(p)

    p = commands.add_parser("eval", parents=[common], help="recompute a run's metrics from its checkpoint")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--n", type=_positive_int, help="generated samples (default: the run's eval size)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the run's own)")
    p.add_argument("--task-only", action="store_true",
                   help="only the task's own metrics (skip MMD, sliced W1, precision/recall, "
                   "density/coverage and their noise floors)")
    _add_refine_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of a refined evaluation (default: 0)")

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
    _add_watch_parsers(commands, common)
    return parser


def _add_watch_parsers(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "report", parents=[common], help="write one self-contained HTML page about one or more runs",
        description="Config, final metrics with their noise floors, training curves and figures of "
        "each run in one HTML file with everything embedded (no network needed); for several runs, "
        "a side-by-side table of the settings that differ and of the metrics.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--out", required=True, metavar="FILE.html", help="the HTML file to write")
    p.add_argument("--title", help="page title (default: the run names)")
    p.add_argument("--no-eval", action="store_true", help="show only what the run folders hold (skip "
                   "evaluating the sample-based metrics and noise floors from each checkpoint)")

    p = commands.add_parser(
        "runs", parents=[common], help="list the runs under runs/ (or DIR) and where each stands",
        description="A table of every run folder under DIR (searched recursively): name, task, "
        "preset, steps done of planned, status (running, finished, interrupted, diverged, broken), "
        "age (since its last write) and the task's headline metrics.")
    p.add_argument("dir", nargs="?", default="runs", metavar="DIR", help="default: %(default)s")
    p.add_argument("--sort", metavar="METRIC", help="sort by a metric, ascending (-METRIC: descending), "
                   "or by name, task, preset, status, step, age (default: most recent first)")
    p.add_argument("--json", action="store_true", help="print JSON (every metric of every run)")


def _print_metrics(metrics: dict[str, Any]) -> None:
    """Scalars one per line; with several members, each metric's median, IQR and range."""
    per_member = member_record(metrics)
    for key, value in metrics.items():
        if isinstance(value, dict):
            continue
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        if per_member is not None and key in per_member.values and isinstance(value, float):
            spread = per_member.spread(key)
            shown += (f"   (IQR {spread.q1:.4f} to {spread.q3:.4f}, "
                      f"range {spread.min:.4f} to {spread.max:.4f})")
        print(f"  {key:<18} {shown}")


def member_record(metrics: dict[str, Any]) -> MemberMetrics | None:
    """A population's per-member values, None for a single run."""
    from gankit.core.memberstats import MemberMetrics

    record = MemberMetrics.from_row(metrics)
    return record if record.members > 1 else None


# Flags of ``train`` that are not config settings: how to run, not what to train.
RUN_FLAGS = ("live", "quiet", "no_figures", "wait_figures", "overwrite", "debug", "dry_run")


def _resume_refusals(args: argparse.Namespace) -> list[str]:
    """The flags given with --resume that would change the run's config."""
    refused = [s.flag for s in SHORTCUTS if not s.resume_ok and getattr(args, s.name) is not None]
    refused += [f"--{k}" for k in ("preset", "config", "out") if getattr(args, k) is not None]
    return refused + (["--set"] if args.set else []) + (["--dry-run"] if args.dry_run else [])


def cmd_train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    figures = False if args.no_figures else True if args.wait_figures else "background"
    common = {"progress": not args.quiet, "live": args.live, "figures": figures}
    from gankit.api.training import resume, train
    from gankit.config.resolve import resolve_config

    if args.resume:
        refused = _resume_refusals(args)
        if refused:
            raise GankitError(f"--resume continues a run with its own config; {', '.join(refused)} "
                              "cannot be changed (only --steps can extend it)")
        before = _checkpoint_step(args.resume)
        steps = None
        if args.steps is not None:  # parsed and type-checked as the same flag without --resume is
            steps = config_from_dict(merge({}, *shortcut_overrides(steps=args.steps))).train.steps
        run = resume(args.resume, steps=steps, **common)
    else:
        shortcuts = {s.name: getattr(args, s.name) for s in SHORTCUTS}
        overrides = shortcut_overrides(**shortcuts) + [parse_override(item) for item in args.set]
        config = resolve_config(args.preset, args.config, overrides)
        if args.dry_run:
            print(config.to_toml(), end="")
            return 0
        before = 0
        run = train(config, preset=args.preset, out=args.out, overwrite=args.overwrite, **common)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 speaks for the job
        return 0
    step = run.summary["step"]
    at = f" (now at step {step})" if before else ""
    elapsed = time.perf_counter() - started
    print(f"trained {step - before} steps{at} in {elapsed:.1f} s; run folder: {run.path}")
    _print_metrics(run.summary)
    if figures == "background":
        print(f"figures: {run.folder.figures} (being drawn in the background: a few seconds; "
              "its log is plot.log there)")
    elif figures:
        print(f"figures: {run.folder.figures}")
    return 0


def _checkpoint_step(path: str) -> int:
    """The step a run will resume from (0 when that cannot be read: resume names the problem)."""
    from gankit.store.checkpoint import latest_checkpoint
    from gankit.store.rundir import RunFolder

    try:
        name = latest_checkpoint(RunFolder(path).checkpoints).stem
        return int("".join(ch for ch in name if ch.isdigit()) or 0)
    except (GankitError, OSError, ValueError):
        return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from gankit.api.run import Run
    from gankit.store.checkpoint import atomic_write_bytes

    out = Path(args.out)
    if _is_table_run(args.run_dir):
        return _sample_table(args, out)
    if args.out.endswith(("/", os.sep)) or out.is_dir():
        return _sample_images(args, out)
    if out.suffix not in (".npy", ".csv"):
        raise GankitError(f"--out must end in .npy or .csv, got '{out.name}'")
    if not out.parent.is_dir():
        raise GankitError(f"cannot write '{out}': folder '{out.parent}' does not exist")
    run = Run.load(args.run_dir, args.device)
    settings = _refine_settings(args)
    if settings is None:
        samples = run.sample(args.n, args.seed, args.member)
    else:
        samples, cost = run.sample_refined(args.n, settings, args.seed, args.member)
    if out.suffix == ".csv" and samples.ndim > 2:
        raise GankitError("images do not fit a CSV table; use --out DIR/ (PNG files) or --out FILE.npy")
    if out.suffix == ".npy":
        import io

        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, samples)
        data = buffer.getvalue()
    else:
        lines = [",".join(_csv_header(run.trainer.task, samples.shape[1]))]
        lines += [",".join(f"{v:.7g}" for v in row) for row in samples]
        data = ("\n".join(lines) + "\n").encode()
    try:
        atomic_write_bytes(out, data)
    except OSError as exc:
        raise GankitError(f"cannot write '{out}': {exc.strerror}") from None
    print(f"wrote {args.n} samples of size {samples.shape[1]} to {out}")
    if settings is not None:
        _print_refinement(settings, cost)
    return 0


def _sample_images(args: argparse.Namespace, out: Path) -> int:
    """``gankit sample RUN --out DIR/``: one PNG per generated image (image runs only)."""
    from gankit.api.run import Run
    from gankit.tasks.images import ImageTask, write_pngs

    if out.exists() and not out.is_dir():
        raise GankitError(f"cannot write PNG files into '{out}': it is not a folder")
    run = Run.load(args.run_dir, args.device)
    if not isinstance(run.trainer.task, ImageTask):
        raise GankitError(f"--out DIR/ writes PNG images, but this run's data ('{run.config.data.name}') "
                          "are not images; use --out FILE.npy or FILE.csv")
    paths = write_pngs(run.sample(args.n, args.seed, args.member), out)
    print(f"wrote {len(paths)} PNG images to {out}")
    return 0


def _is_table_run(path: str) -> bool:
    """Whether RUN_DIR was trained on a table file (an unreadable folder: Run.load says why)."""
    from gankit.store.rundir import RunFolder

    try:
        return RunFolder(path).load_config().data.name == "table"
    except GankitError:
        return False


def _sample_table(args: argparse.Namespace, out: Path) -> int:
    """A table run's rows, in chunks, with the table's own header, column order and types."""
    from gankit.api.run import Run
    from gankit.tasks.table_write import TABLE_SUFFIXES, write_table

    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise GankitError(f"a table run writes .csv or .tsv files, got '{out.name}'")
    if not out.parent.is_dir():
        raise GankitError(f"cannot write '{out}': folder '{out.parent}' does not exist")
    run = Run.load(args.run_dir, args.device)
    write_table(run, args.n, out, args.seed, args.member)
    print(f"wrote {args.n} rows of {len(run.trainer.task.codec.columns)} columns to {out}")
    return 0


def _csv_header(task: Task, dim: int) -> list[str]:
    """Column names: ``y(x=-2)`` ... where a task's points are values on a grid of x (the
    curves), else ``x0``, ``x1``, ... (the coordinates of a point)."""
    grid = getattr(task, "x", None)
    if grid is not None and len(grid) == dim:
        return [f"y(x={float(x):g})" for x in grid]
    return [f"x{i}" for i in range(dim)]


def cmd_eval(args: argparse.Namespace) -> int:
    from gankit.api.run import Run
    from gankit.metrics import METRICS
    from gankit.store.rundir import jsonable

    run = Run.load(args.run_dir, args.device)
    settings = _refine_settings(args)
    metrics = run.evaluate(args.n, general=not args.task_only, refine=settings, seed=args.seed)
    if args.json:
        print(json.dumps(jsonable({"step": run.trainer.step_count, **metrics}), indent=2))
        return 0
    members = run.trainer.members
    print(f"{run.path} at step {run.trainer.step_count}" + (f", {members} members:" if members > 1 else ":"))
    _print_metrics(metrics)
    if settings is not None:
        _print_refinement(settings, metrics)
    if members > 1:
        per_member = metrics["members"]
        general = set(METRICS.names())
        keys = [k for k in per_member if k.removesuffix("_floor") not in general and k != "diverged"]
        print("  member " + " ".join(f"{k:>18}" for k in keys))
        for i in range(members):
            print(f"  {i:>6} " + " ".join(f"{per_member[k][i]:>18.4f}" for k in keys))
    return 0


def _add_refine_arguments(p: argparse.ArgumentParser) -> None:
    """Sampling guided by the discriminator (gankit.evaluation.refine), shared by sample and eval."""
    g = p.add_argument_group("refinement with the discriminator (docs/REFINE.md)")
    g.add_argument("--refine", choices=["drs", "mh"],
                   help="drs: discriminator rejection sampling; mh: Metropolis-Hastings GAN")
    g.add_argument("--gamma", default="0.5", metavar="Q|exact",
                   help="drs: gamma is this quantile of F over the burn-in (higher keeps fewer, "
                   "better samples); 'exact': gamma = 0, plain rejection sampling (default 0.5)")
    g.add_argument("--chain", type=_positive_int, default=40, metavar="K",
                   help="mh: proposals per returned sample (default: %(default)s; the paper used 640)")
    g.add_argument("--calibrate", choices=["none", "logistic", "isotonic"], default="none",
                   help="fit D's probabilities on held-out real and generated samples first "
                   "(default: none)")


def _refine_settings(args: argparse.Namespace) -> RefineSettings | None:
    from gankit.evaluation.refine import RefineSettings

    if args.refine is None:
        return None
    if args.gamma == "exact":
        gamma = None
    else:
        try:
            gamma = float(args.gamma)
        except ValueError:
            raise GankitError(f"--gamma must be a quantile in [0, 1] or 'exact', "
                              f"got '{args.gamma}'") from None
    return RefineSettings(method=args.refine, gamma_percentile=gamma, chain=args.chain,
                          calibrate=args.calibrate)


def _print_refinement(settings: RefineSettings, metrics: dict[str, Any]) -> None:
    from gankit.evaluation.refine import describe

    print(f"  refined by {describe(settings)}: acceptance rate {metrics['acceptance_rate']:.3f}, "
          f"{metrics['g_passes_per_sample']:.1f} G and {metrics['d_passes_per_sample']:.1f} D passes "
          "per sample")


def cmd_plot(args: argparse.Namespace) -> int:
    from gankit.api.run import Run

    for path in Run.load(args.run_dir, args.device).plot():
        print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from gankit.api.comparison import compare, grid_variants, parse_variant

    variants = [parse_variant(text) for text in args.variant] + grid_variants(args.vary)
    base = shortcut_overrides(data=args.data) + [parse_override(item) for item in args.set]
    rows = compare(variants, args.out, preset=args.preset, base=base, seeds=args.seeds,
                   seed=args.seed, steps=args.steps, seconds=args.seconds,
                   overwrite=args.overwrite, progress=not args.quiet)
    print((Path(args.out) / "comparison.md").read_text(), end="")
    print(f"{len(rows)} configurations; table: {Path(args.out) / 'comparison.md'} (and .csv), "
          f"figure: {Path(args.out) / 'comparison.png'}; each run's figures: "
          f"{Path(args.out) / 'runs' / '*' / 'figures'}")
    print(f"report: {Path(args.out) / 'report.html'}")
    return 0


def cmd_theory(args: argparse.Namespace) -> int:
    from gankit.api.theory import run_theory

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


def cmd_report(args: argparse.Namespace) -> int:
    from gankit.api.reporting import write_report

    path = write_report(args.run_dirs, args.out, title=args.title, evaluate=not args.no_eval)
    print(f"report of {len(args.run_dirs)} run(s): {path}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from gankit.store.runs import format_table, list_runs, runs_json

    entries = list_runs(args.dir, sort=args.sort)
    if args.json:
        print(runs_json(entries))
    elif not entries:
        print(f"no runs under {args.dir}")
    else:
        print(format_table(entries, sort=args.sort))
    return 0


COMMANDS = {"train": cmd_train, "compare": cmd_compare, "sample": cmd_sample, "eval": cmd_eval,
            "plot": cmd_plot, "theory": cmd_theory}
COMMANDS.update(report=cmd_report, runs=cmd_runs)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:  # before training started or after it ended: nothing to save
        print("gankit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gankit ... | head`: the reader has what it wanted; the run is saved
        # Python would report the pipe again when it flushes stdout at exit: point it elsewhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command stopped by a closed pipe
    except GankitError as exc:
        exit_code = getattr(exc, "exit_code", None)  # run.Interrupted: a signal stopped training
        if exit_code is not None:
            print(f"gankit: {exc}", file=sys.stderr)
            return int(exit_code)
        if args.debug or args.debug_anywhere:
            raise
        print(f"gankit: error: {exc}", file=sys.stderr)
        return 2

"""One function per ``gankit`` command: parsed arguments in, calls of the Python API, lines out.

Each returns the exit code; a :class:`GankitError` it raises is answered by :func:`gankit.cli.app.main`.
The API (torch, matplotlib) is imported inside the functions, so that importing the CLI stays light.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gankit.cli.printing import not_held_out_note, print_metrics, print_refinement
from gankit.config import SHORTCUTS, config_from_dict, merge, parse_override, shortcut_overrides
from gankit.core.errors import GankitError

if TYPE_CHECKING:
    from gankit.api.run import Run
    from gankit.evaluation.refine import RefineSettings
    from gankit.tasks import Task


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
    print_metrics(run.summary)
    not_held_out_note(run.summary)
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
    from gankit.api.artifact import open_run
    from gankit.api.run import GRID_IMAGES, check_grid

    if args.out is None and args.grid is None:
        raise GankitError("gankit sample writes --out FILE or DIR/ (the samples), --grid FILE.png "
                          "(one picture of an image run's samples), or both; give one")
    if args.nrow is not None and args.grid is None:
        raise GankitError("--nrow sets the images per row of --grid; give --grid FILE.png too")
    out = None if args.out is None else Path(args.out)
    grid = None if args.grid is None else Path(args.grid)
    # Checked before loading, which takes seconds: a wrong --out or --grid should not cost them.
    folder_form = out is not None and (args.out.endswith(("/", os.sep)) or out.is_dir())

    def check_outputs(task_class: type[Task] | None) -> None:
        if out is not None:
            _check_output(task_class, out, folder_form)
        if grid is not None and task_class is not None:
            check_grid(task_class, grid)

    model_file = Path(args.run_dir).is_file()  # from gankit export: its task is known once loaded
    if not model_file:
        check_outputs(_task_class(args.run_dir))
    n = args.n if args.n is not None else 1000 if out is not None else GRID_IMAGES
    settings = _refine_settings(args)
    condition = _condition(args.condition)
    if args.conditions is not None:
        if condition is not None:
            raise GankitError("give --condition or --conditions FILE.csv, not both")
        condition = _condition_rows(Path(args.conditions))
        if args.n is not None and args.n != len(condition):
            raise GankitError(f"--conditions has {len(condition)} rows, one per sample, but --n is {args.n}")
        n = len(condition)
    run = open_run(args.run_dir, args.device)  # a run folder or a file from gankit export
    if model_file:
        check_outputs(type(run.task))
    if settings is None and grid is None:
        chunks = run.sample_chunks(n, args.seed, args.member, condition, args.extrapolate)
        print(run.task.write_samples(chunks, out))
        return 0
    if grid is None:  # refined in the pieces sample_chunks draws (a table's), each with its seed
        from gankit.evaluation.refine import merge_costs

        costs: list[tuple[int, dict[str, float]]] = []
        pieces = _refined_chunks(run, n, settings, args.seed, args.member, costs, condition, args.extrapolate)
        print(run.task.write_samples(pieces, out))
        print_refinement(settings, merge_costs(costs, settings.method))
        return 0
    if settings is None:
        samples, cost = run.sample(n, args.seed, args.member, condition=condition,
                                   extrapolate=args.extrapolate), None
    else:
        samples, cost = run.sample_refined(n, settings, args.seed, args.member, condition=condition,
                                           extrapolate=args.extrapolate)
    if out is not None:
        print(run.task.write_samples([samples], out))
    if grid is not None:
        path = run.save_grid(grid, nrow=args.nrow, images=samples)
        print(f"wrote {len(samples)} images as one grid to {path}")
    if settings is not None and cost is not None:
        print_refinement(settings, cost)
    return 0


def _condition(pairs: list[str] | None) -> dict[str, str] | None:
    """``--condition NAME=VALUE`` flags as names -> values (the run's task reads the values)."""
    if not pairs:
        return None
    condition: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise GankitError(f"--condition takes NAME=VALUE, e.g. --condition a=2.0, got '{pair}'")
        if name.strip() in condition:
            raise GankitError(f"--condition names '{name.strip()}' twice")
        condition[name.strip()] = value.strip()
    return condition


def _condition_rows(path: Path) -> list[dict[str, str]]:
    """``--conditions FILE.csv``: one request per row, its header the names (values as text)."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            rows = list(csv.DictReader(file))
    except OSError as exc:
        raise GankitError(f"cannot read --conditions '{path}': {exc.strerror}") from None
    if not rows:
        raise GankitError(f"--conditions '{path}' has no rows under its header")
    if any(None in row or None in row.values() for row in rows):
        raise GankitError(f"--conditions '{path}': every row must have a value for each header name")
    return rows


def _refined_chunks(run: Run, n: int, settings: RefineSettings, seed: int | None, member: int,
                    costs: list[tuple[int, dict[str, float]]], condition: Any = None,
                    extrapolate: bool = False) -> Iterator[Any]:
    """``n`` refined samples in the pieces :meth:`Run.sample_chunks` draws (at most the task's
    ``sample_chunk_rows``, each with its ``chunk_seed``: the first piece is ``Run.sample(k, seed,
    refine=...)``), so that a large sample holds one piece in memory; each piece's rows and cost
    are appended to ``costs``. ``condition``: one request for every row, or one per row."""
    from gankit.api.run import chunk_seed, condition_piece

    rows = run.task.sample_chunk_rows or n
    for k, start in enumerate(range(0, n, rows)):
        size = min(rows, n - start)
        samples, cost = run.sample_refined(size, settings, chunk_seed(seed, k), member,
                                           condition=condition_piece(condition, start, size),
                                           extrapolate=extrapolate)
        costs.append((size, cost))
        yield samples


def _task_class(run_dir: str) -> type[Task] | None:
    """The class of a run's task, from its config.toml alone: only the dataset's name is read,
    not validated, since validating builds the task and Run.load does that right after. None
    for an unreadable run folder (Run.load names why)."""
    from gankit.config import read_toml
    from gankit.store.rundir import RunFolder
    from gankit.tasks import TASKS

    try:
        data = read_toml(RunFolder(run_dir).config_path).get("data", {})
        return TASKS.get(data.get("name", "") if isinstance(data, dict) else "")
    except GankitError:
        return None


def _check_output(task_class: type[Task] | None, out: Path, folder_form: bool) -> None:
    """Refuse an --out the run's task does not write. For an unreadable run folder a file name
    can still be judged (every task writes .npy or a table), a folder cannot (only image tasks
    write one)."""
    from gankit.tasks import Task

    if task_class is None and folder_form:
        return
    (task_class or Task).check_output(out, folder_form)


def cmd_eval(args: argparse.Namespace) -> int:
    from gankit.api.artifact import open_run
    from gankit.metrics import METRICS
    from gankit.store.rundir import jsonable

    run = open_run(args.run_dir, args.device)
    settings = _refine_settings(args)
    metrics = run.evaluate(args.n, general=not args.task_only, refine=settings, seed=args.seed)
    if args.json:
        print(json.dumps(jsonable({"step": run.trainer.step_count, **metrics}), indent=2))
        return 0
    members = run.trainer.members
    print(f"{run.path} at step {run.trainer.step_count}" + (f", {members} members:" if members > 1 else ":"))
    print_metrics(metrics)
    not_held_out_note(run.summary)
    if settings is not None:
        print_refinement(settings, metrics)
    if members > 1:
        per_member = metrics["members"]
        general = set(METRICS.names())
        keys = [k for k in per_member if k.removesuffix("_floor") not in general and k != "diverged"]
        print("  member " + " ".join(f"{k:>18}" for k in keys))
        for i in range(members):
            print(f"  {i:>6} " + " ".join(f"{per_member[k][i]:>18.4f}" for k in keys))
    return 0


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


def cmd_plot(args: argparse.Namespace) -> int:
    from gankit.api.run import Run

    for path in Run.load(args.run_dir, args.device).plot():
        print(path)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from gankit.api.artifact import export

    path = export(args.run_dir, args.file)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): the config, weights and data state of "
          f"{args.run_dir}; in Python: gankit.load({str(path)!r}).sample(1000)")
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
    elapsed = time.perf_counter() - started
    print(f"theory experiments done in {elapsed:.1f} s; results in {Path(args.out) / 'theory.json'}")
    if args.quick:
        print("quick mode: fewer steps than the full run (without --quick) and looser targets, "
              "measured for this mode (docs/THEORY.md)")
    missed = 0
    for name, key in (("optimal discriminator", "optimal_discriminator"),
                      ("value of the game", "value_of_game"), ("training towards equilibrium", "training")):
        part = result[key]
        missed += not part["met"]
        target = (f"quick target < {part['target']:g}; full run's target < {part['full_target']:g}"
                  if args.quick else f"target < {part['target']:g}")
        print(f"  {name:<30} {'target met' if part['met'] else 'TARGET MISSED'}: "
              f"{part['check']} {part['value']:.4f} ({target})")
    if missed:  # a failed check, as a test run reports one (bad input is 2)
        print(f"{missed} of 3 targets missed: exit status 1")
    return 1 if missed else 0


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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": cmd_train, "compare": cmd_compare, "sample": cmd_sample, "eval": cmd_eval,
    "plot": cmd_plot, "export": cmd_export, "theory": cmd_theory, "report": cmd_report, "runs": cmd_runs}

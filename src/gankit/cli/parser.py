"""The ``gankit`` command line as argparse sees it: every command, flag and help text.

Only light modules are imported here: ``gankit --help`` and a mistyped flag are answered
without loading torch or matplotlib.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from gankit import __version__
from gankit.config import PRESET_HELP, PRESETS, SHORTCUTS
from gankit.core.errors import did_you_mean


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
  gankit train --data my_table.csv               a table: its length from its rows, an early stop
                                                 on held-out quality (train.all_rows: then all rows)
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
    width = max(len(name) for name in PRESET_HELP)
    presets = "\n".join(f"  {name:<{width}} {text}" for name, text in PRESET_HELP.items())
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

    p = commands.add_parser("sample", parents=[common],
                            help="write generated samples to a file (image runs: PNG files or one grid)")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder, or a model file from gankit export")
    p.add_argument("--n", type=_positive_int, help="how many (default: 1000; 64 with --grid alone)")
    p.add_argument("--out", metavar="FILE",
                   help="output file, .npy or .csv (with a header), or DIR/ for PNG files (image runs); "
                   "a table run writes .csv or .tsv with its own columns")
    p.add_argument("--grid", metavar="FILE.png",
                   help="image runs: the samples as one PNG picture, --nrow per row with 2 pixels "
                   "between them (torchvision's save_image layout); with --out, the same samples")
    p.add_argument("--nrow", type=_positive_int, metavar="N",
                   help="images per row of --grid (default: ceil(sqrt(n)), a square)")
    p.add_argument("--seed", type=int, help="seed of the noise (default: fresh noise)")
    p.add_argument("--member", type=int, default=0, help="which member of a --seeds run (default: 0)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the run's own)")
    p.add_argument("--condition", action="append", metavar="NAME=VALUE",
                   help="a conditional run (trained with --condition-on): every sample meets it, e.g. "
                   "a=2.0 (the curves), mode=3, class=7 (digits), class=cat (a folder's sub-folder), "
                   "species=setosa or age=40 (a table's columns); repeat it for each name; works "
                   "with --refine")
    p.add_argument("--conditions", metavar="FILE.csv",
                   help="a conditional run: one sample per row of FILE.csv, each meeting its row "
                   "(columns: the names, e.g. a; --n defaults to the rows)")
    p.add_argument("--extrapolate", action="store_true",
                   help="with --condition: allow a number outside the training range")
    _add_refine_arguments(p)

    from gankit.core.directions import directions_help  # no torch: the help stays light

    p = commands.add_parser("eval", parents=[common], help="recompute a run's metrics from its checkpoint",
                            formatter_class=argparse.RawDescriptionHelpFormatter, epilog=directions_help(),
                            description="Recompute a run's metrics from its checkpoint, each beside its "
                            "noise floor\n(NAME_floor: the metric between real samples). A table's or "
                            "images' general metrics\ncompare with one half of the held-out data and "
                            "take their floors from the other half.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder, or a model file from gankit export")
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
        "export", parents=[common], help="write a trained run as one model file (gankit.load reads it)",
        description="Write everything sampling needs as one file: the config, the generator (and EMA) "
        "and discriminator weights, the data's saved state (a table's columns and encoded held-out "
        "rows, an image folder's held-out images) and the summary. gankit.load(FILE) reads it back "
        "without running code (weights_only) and without the run folder or the training data; it "
        "holds data rows, so share it only where the data may go.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("file", metavar="FILE", help="the model file to write, e.g. model.pt")

    p = commands.add_parser(
        "theory", parents=[common], help="check the seed's equations numerically, with figures",
        description="Three experiments on 1-D data with known densities: the optimal discriminator "
        "D* = p_r / (p_r + p_g), the value of the game -log 4 + 2 JSD, and training towards "
        "D = 1/2 with the minimax and non-saturating losses (docs/THEORY.md).")
    p.add_argument("--out", default="runs/theory", metavar="DIR", help="output folder (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="fewer steps, checked against looser targets measured for them; about 10 s "
                   "(for a first look)")
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

"""The times the README states, measured as a user meets them: whole ``gankit`` processes in an
empty folder, while another job keeps one core busy (as a second run or a browser would), a few
times each, reported as ranges.

    python benchmarks/readme_timings.py [--repeats 3] [--quiet-machine] [--write]

What it times: the README's blocks (every ``sh`` and ``python`` block after the set-up, run
verbatim one after another, as ``tests/integration/test_readme.py`` runs them), the default
run (``gankit train --quiet``), ``make demo``'s command (the default run, waiting for its
figures) and ``gankit theory --quick``.
With ``--write`` it puts the ranges into the Markdown files between markers
``<!-- timing:KEY -->`` and ``<!-- /timing -->`` (README.md, docs/THEORY.md), so the stated
times are this script's output, not remembered numbers.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "THEORY.md"]
BIN = Path(sys.executable).parent


def gankit() -> str:
    found = shutil.which("gankit", path=str(BIN))
    if found is None:
        sys.exit("the gankit console script is not installed next to this Python (make demo)")
    return found


def busy(stop_at: float) -> None:
    x = 0
    while time.time() < stop_at:
        x += 1


def readme_blocks() -> list[tuple[str, str]]:
    """The README's shell and Python blocks in order (the set-up block, without a language, aside)."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", (ROOT / "README.md").read_text(), flags=re.S | re.M)
    return [(lang, text) for lang, text in blocks if lang in ("sh", "python")]


def timed(run: Callable[[Path], None]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run(Path(folder))
        return time.perf_counter() - start


def _env() -> dict[str, str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "MPLBACKEND": "Agg"}
    env.pop("DISPLAY", None)
    return env


def shell(text: str) -> Callable[[Path], None]:
    def run(cwd: Path) -> None:
        subprocess.run(["bash", "-e", "-c", text], cwd=cwd, env=_env(), check=True,
                       capture_output=True, timeout=1800)

    return run


def blocks_in_order(blocks: list[tuple[str, str]]) -> Callable[[Path], None]:
    """Every block as a user pastes them one after another: shell blocks through bash, Python
    blocks as scripts, in one folder."""
    def run(cwd: Path) -> None:
        for i, (lang, text) in enumerate(blocks):
            if lang == "sh":
                shell(text)(cwd)
                continue
            script = cwd / f"readme_block{i}.py"
            script.write_text(text)
            subprocess.run([sys.executable, str(script)], cwd=cwd, env=_env(), check=True,
                           capture_output=True, timeout=1800)

    return run


def cases() -> dict[str, tuple[str, Callable[[Path], None]]]:
    exe = gankit()
    return {
        "default": ("the default run, `gankit train --quiet`",
                    shell(f"{exe} train --quiet --out runs/default")),
        "demo": ("`make demo`'s command (the default run, waiting for its figures)",
                 shell(f"{exe} train --out runs/demo --overwrite --wait-figures")),
        "theory_quick": ("`gankit theory --quick`", shell(f"{exe} theory --quick --out runs/theory")),
        "readme_block": ("every README block in order, in an empty folder",
                         blocks_in_order(readme_blocks())),
    }


def span(times: list[float]) -> str:
    low, high = min(times), max(times)
    if high >= 120:
        return f"{low / 60:.1f}-{high / 60:.1f} min"
    return f"{int(low)}-{int(high + 0.999)} s"


def write(ranges: dict[str, str]) -> None:
    for doc in DOCS:
        text = doc.read_text()
        for key, value in ranges.items():
            text = re.sub(rf"(<!-- timing:{key} -->).*?(<!-- /timing -->)", rf"\g<1>{value}\g<2>", text)
        doc.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quiet-machine", action="store_true",
                        help="no background job (the README's ranges are measured with one)")
    parser.add_argument("--only", nargs="*", help="keys to time (default: all)")
    parser.add_argument("--write", action="store_true", help="update the marked spans in the docs")
    args = parser.parse_args()
    load = None
    if not args.quiet_machine:
        load = multiprocessing.Process(target=busy, args=(time.time() + 7200,), daemon=True)
        load.start()
    ranges: dict[str, str] = {}
    try:
        print(f"{'one core busy with another job' if load else 'quiet machine'}, "
              f"{args.repeats} runs each, wall seconds; load average before: "
              f"{os.getloadavg()[0]:.1f}")
        for key, (label, run) in cases().items():
            if args.only and key not in args.only:
                continue
            times = [timed(run) for _ in range(args.repeats)]
            ranges[key] = span(times)
            shown = ", ".join(f"{t:.1f}" for t in times)
            print(f"{key:<14} {ranges[key]:>12}   ({shown})   {label}", flush=True)
    finally:
        if load is not None:
            load.terminate()
    print(f"load average after: {os.getloadavg()[0]:.1f} (5 min: {os.getloadavg()[1]:.1f})")
    if args.write:
        write(ranges)
        print("written into " + ", ".join(str(d.relative_to(ROOT)) for d in DOCS))


if __name__ == "__main__":
    main()

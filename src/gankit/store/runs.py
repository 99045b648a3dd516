"""``gankit runs``: every run folder under a directory, with where it stands.

A run's status comes from ``run.json``, which :mod:`gankit.api.training` writes when training starts
(``running``, with the process id and host) and when it ends (``finished``, ``interrupted`` or
``diverged``). A folder still marked ``running`` whose process is gone (on this host) was killed
without a word: it is ``interrupted``. On another host a ``running`` run counts as running while
it wrote something in the last ten minutes. Folders from before ``run.json`` existed are
``finished`` when they hold ``summary.json``, else ``interrupted``. A folder whose
``config.toml``, ``summary.json`` or ``run.json`` cannot be read is ``broken``; it is listed, not
skipped, and never stops the listing.

It reads the small files only, never a checkpoint, so a listing of many runs is quick.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gankit.config import config_from_dict, read_toml
from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.store.rundir import RunFolder

STATUSES = ("running", "finished", "interrupted", "diverged", "broken")
REMOTE_RUNNING_S = 600.0  # a run on another host counts as running while it wrote this recently
# Numbers of a log row or summary that are bookkeeping, not metrics of the run's quality.
NOT_METRICS = {"step", "elapsed_s", "seeds", "diverged", "success", "success_share", "best_step"}
TRAINING = ("d_loss", "g_loss", "d_real", "d_fake")
HEADLINE = 3


@dataclass
class RunEntry:
    """One row of ``gankit runs`` (and one object of ``--json``)."""

    path: str
    name: str  # the folder, relative to the directory listed
    status: str
    task: str | None = None  # the dataset's name: parabola, table, images, ...
    data: str | None = None  # a user's data: its file's name, or its folder's with a trailing /
    preset: str | None = None
    step: int = 0
    planned_steps: int | None = None  # 0: no step limit, a time budget (max_seconds)
    max_seconds: float = 0.0
    members: int = 1
    diverged_members: int = 0
    metrics: dict[str, float] = field(default_factory=dict)  # the summary's (or latest log row's)
    headline: list[str] = field(default_factory=list)  # the task's own metrics, first three
    last_write: float | None = None  # seconds since the epoch
    note: str = ""  # why broken, or why it stopped

    @property
    def task_label(self) -> str | None:
        """The task as listed: ``table:penguins.csv``, ``images:faces/``, or the name alone."""
        return f"{self.task}:{self.data}" if self.task and self.data else self.task

    def to_json(self, now: float) -> dict[str, Any]:
        out = asdict(self)
        out["age_s"] = None if self.last_write is None else round(now - self.last_write, 1)
        return out


def find_runs(root: str | Path) -> list[Path]:
    """Every folder under ``root`` (``root`` itself included) that holds a config.toml."""
    root = Path(root)
    if not root.is_dir():
        raise GankitError(f"'{root}' is not a folder; give the folder that holds your runs (default: runs/)")
    return sorted({p.parent for p in root.rglob("config.toml")})


def read_run(path: Path, root: Path) -> RunEntry:
    """A run folder's entry; any unreadable part makes it ``broken`` with the reason in ``note``."""
    folder = RunFolder(path)
    name = str(path.relative_to(root)) if path != root else path.name
    entry = RunEntry(path=str(path), name=name, status="broken", last_write=_last_write(folder))
    part = folder.config_path.name
    try:
        config = config_from_dict(read_toml(folder.config_path))
        part = folder.summary_path.name
        summary = folder.read_summary()
        part = folder.info_path.name
        info = folder.read_info()
    except (GankitError, ValueError, OSError) as exc:  # JSONDecodeError is a ValueError
        entry.note = f"{part}: " + (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return entry
    entry.task = config.data.name
    entry.data = _data_name(config.data.params.get("path"))
    entry.preset = info.get("preset")
    entry.planned_steps = config.train.steps
    entry.max_seconds = config.train.max_seconds
    entry.members = config.seeds
    rows = folder.metrics.read()
    # A run that went on on all its rows lists its held-out phase's metrics: the final ones
    # compare with rows it trained on, and would flatter it beside other runs.
    held_out = summary.get("held_out_phase", {}).get("metrics") if summary else None
    source = held_out or summary or _latest_evaluation(rows)
    entry.metrics = _numbers(source)
    entry.headline = _headline(source)
    entry.step = int(summary.get("step") or (rows[-1].get("step", 0) if rows else _checkpoint_step(folder)))
    entry.diverged_members = int(summary.get("diverged", 0) or 0)
    entry.status, entry.note = _status(info, bool(summary), entry.last_write)
    if entry.status == "finished" and not summary:
        entry.status, entry.note = "broken", "run.json says finished but summary.json is missing"
    return entry


def _data_name(path: Any) -> str | None:
    """The name of the file or folder a run learned (``data.path``), without where it lies."""
    if not isinstance(path, str) or not path:
        return None
    where = Path(path).expanduser()
    folder = where.is_dir() or (not where.exists() and not where.suffix)
    return where.name + ("/" if folder else "")


def _status(info: dict[str, Any], has_summary: bool, last_write: float | None) -> tuple[str, str]:
    status = info.get("status")
    if status is None:  # written before run.json existed
        return ("finished", "") if has_summary else ("interrupted", "no summary.json")
    if status != "running":
        note = info.get("reason") or ""
        return (status, note) if status in STATUSES else ("broken", f"unknown status '{status}'")
    if info.get("host") == socket.gethostname():
        if _alive(info.get("pid")):
            return "running", ""
        return "interrupted", "its process ended without a word (killed?)"
    host = info.get("host")
    recent = last_write is not None and time.time() - last_write < REMOTE_RUNNING_S
    return ("running", f"on {host}") if recent else ("interrupted", f"silent on {host}")


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _last_write(folder: RunFolder) -> float | None:
    paths = [folder.config_path, folder.summary_path, folder.info_path, folder.metrics.path]
    if folder.checkpoints.is_dir():
        paths += list(folder.checkpoints.iterdir())
    times = [p.stat().st_mtime for p in paths if p.exists()]
    return max(times) if times else None


def _checkpoint_step(folder: RunFolder) -> int:
    if not folder.checkpoints.is_dir():
        return 0
    steps = [int(m.group(1)) for p in folder.checkpoints.iterdir() if (m := re.search(r"(\d+)", p.stem))]
    return max(steps, default=0)


def _latest_evaluation(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The last log row that holds evaluated metrics, not only losses."""
    for row in reversed(rows):
        if set(_numbers(row)) - set(TRAINING):
            return row
    return {}


def _numbers(row: dict[str, Any]) -> dict[str, float]:
    """A row's metric values (medians for a population), without bookkeeping or losses."""
    record = MemberMetrics.from_row(row)
    out = {}
    for key, value in row.items():
        if key in NOT_METRICS or key in TRAINING or key not in record.values:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
    return out


def _headline(row: dict[str, Any]) -> list[str]:
    """The task's own metrics: the trainer writes them first, before ``d_real_mean``."""
    keys = list(_numbers(row))
    if "d_real_mean" in keys:
        keys = keys[: keys.index("d_real_mean")]
    return [k for k in keys if not k.endswith("_floor")][:HEADLINE]


def list_runs(root: str | Path = "runs", sort: str | None = None) -> list[RunEntry]:
    """Every run under ``root``, most recently written first, or sorted by ``sort``: a metric
    (ascending; ``-a_w1`` for descending; runs without it last) or one of name, task, preset,
    status, step, age."""
    root = Path(root)
    entries = [read_run(path, root) for path in find_runs(root)]
    entries.sort(key=lambda e: -(e.last_write or 0.0))
    return sort_runs(entries, sort) if sort else entries


COLUMNS = {"name": lambda e: e.name, "task": lambda e: e.task_label or "", "preset": lambda e: e.preset or "",
           "status": lambda e: STATUSES.index(e.status), "step": lambda e: e.step,
           "age": lambda e: -(e.last_write or 0.0)}


def sort_runs(entries: list[RunEntry], sort: str) -> list[RunEntry]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key in COLUMNS:
        return sorted(entries, key=COLUMNS[key], reverse=descending)
    known = sorted({k for e in entries for k in e.metrics})
    if entries and key not in known:
        raise GankitError(f"--sort takes a metric of these runs or one of {', '.join(COLUMNS)}; "
                          f"'{key}' is neither (metrics: {', '.join(known) or 'none yet'})")
    having = [e for e in entries if key in e.metrics]
    having.sort(key=lambda e: e.metrics[key], reverse=descending)
    return having + [e for e in entries if key not in e.metrics]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def format_table(entries: list[RunEntry], sort: str | None = None, now: float | None = None) -> str:
    """A plain-text table, one run a line; the sort metric gets its own column."""
    now = time.time() if now is None else now
    metric = sort.lstrip("-") if sort and sort.lstrip("-") not in COLUMNS else None
    header = ["name", "task", "preset", "steps", "status", "age"] + ([metric] if metric else []) + ["metrics"]
    lines = []
    for e in entries:
        planned = "?" if e.planned_steps is None else (str(e.planned_steps) if e.planned_steps
                                                       else f"{e.max_seconds:g}s")
        status = e.status + (f" ({e.diverged_members}/{e.members} diverged)" if e.diverged_members else "")
        cells = [e.name, e.task_label or "?", e.preset or "?", f"{e.step}/{planned}", status,
                 _age(None if e.last_write is None else now - e.last_write)]
        if metric:
            cells.append(f"{e.metrics[metric]:.4g}" if metric in e.metrics else "")
        shown = "  ".join(f"{k} {e.metrics[k]:.4g}" for k in e.headline)
        cells.append(shown or (e.note[:60] if e.status == "broken" else ""))
        lines.append(cells)
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in [header, *lines])


def runs_json(entries: list[RunEntry], now: float | None = None) -> str:
    now = time.time() if now is None else now
    return json.dumps([e.to_json(now) for e in entries], indent=2)

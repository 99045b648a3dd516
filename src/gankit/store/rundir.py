"""A run folder: config.toml, metrics.jsonl, snapshots.jsonl, summary.json, run.json, checkpoints/,
figures/, for a task reading the user's files its saved data (data.json and data.npz,
:mod:`gankit.tasks.saved`) and, with ``log.tensorboard``, tensorboard/."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gankit.config import Config, read_toml
from gankit.config.resolve import load_config
from gankit.core.errors import GankitError
from gankit.store.checkpoint import atomic_write_text, list_checkpoints
from gankit.tasks.saved import read_saved, remove_saved


def jsonable(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth, as a string: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class JsonLines:
    """An append-only log of JSON rows, flushed per row so a crash loses nothing written."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, row: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(jsonable(row)) + "\n")

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        rows = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a row torn by a crash ends the log
        return rows

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after ``step``: a resumed run logs them again."""
        kept = [row for row in self.read() if row.get("step", 0) <= step]
        atomic_write_text(self.path, "".join(json.dumps(row) + "\n" for row in kept))


class RunFolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.config_path = self.path / "config.toml"
        self.summary_path = self.path / "summary.json"
        self.info_path = self.path / "run.json"  # preset, status: for ``gankit runs``
        self.tensorboard = self.path / "tensorboard"
        self.checkpoints = self.path / "checkpoints"
        self.figures = self.path / "figures"
        self.metrics = JsonLines(self.path / "metrics.jsonl")
        self.snapshots = JsonLines(self.path / "snapshots.jsonl")

    def is_run(self) -> bool:
        return self.config_path.exists()

    def create(self, config: Config, overwrite: bool) -> None:
        """Start a fresh run here, refusing to replace another run unless told to."""
        if self.path.exists() and not self.path.is_dir():
            raise GankitError(f"output path '{self.path}' exists and is not a folder")
        if self.is_run() or (self.path.is_dir() and any(self.path.iterdir())):
            if not self.is_run():
                raise GankitError(f"output folder '{self.path}' is not empty and holds no gankit "
                                  "run; choose another --out (gankit never deletes other files)")
            if not overwrite:
                raise GankitError(
                    f"output folder '{self.path}' is not empty; choose another --out, continue "
                    f"it with --resume {self.path}, or pass --overwrite (overwrite=True in Python) "
                    "to replace it")
            for stale in (self.metrics.path, self.snapshots.path, self.summary_path, self.info_path):
                stale.unlink(missing_ok=True)
            remove_saved(self.path)
            if self.tensorboard.is_dir():
                for events in self.tensorboard.glob("events.out.tfevents.*"):
                    events.unlink()
            for old in list_checkpoints(self.checkpoints):
                old.unlink()
            if self.figures.is_dir():
                for item in self.figures.iterdir():
                    if item.suffix in (".png", ".gif"):
                        item.unlink()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.checkpoints.mkdir(exist_ok=True)
            self.figures.mkdir(exist_ok=True)
        except OSError as exc:
            raise GankitError(f"cannot create run folder '{self.path}': {exc.strerror}") from None
        atomic_write_text(self.config_path, config.to_toml())

    def load_config(self, saved: dict[str, Any] | None = None) -> Config:
        """config.toml, validated; its task built from the run's ``saved`` data when given
        (:meth:`read_saved`), else from its source (training and resuming read the file)."""
        self.check()
        return load_config(read_toml(self.config_path), saved)

    def check(self) -> None:
        """Refuse a path that is no run folder, naming why."""
        if not self.path.is_dir():
            raise GankitError(f"run folder '{self.path}' does not exist")
        if not self.is_run():
            raise GankitError(f"'{self.path}' is not a gankit run folder (no config.toml)")

    def read_saved(self) -> dict[str, Any] | None:
        """The task's saved data (data.json, data.npz); None for a task that keeps none, or a run
        written before gankit kept it (its data are then read from their source)."""
        self.check()
        return read_saved(self.path)

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_text(self.summary_path, json.dumps(jsonable(summary), indent=2) + "\n")

    def read_summary(self) -> dict[str, Any]:
        if not self.summary_path.exists():
            return {}
        return json.loads(self.summary_path.read_text(encoding="utf-8"))

    def read_info(self) -> dict[str, Any]:
        """``run.json``: the preset, the status (running, finished, interrupted, diverged), the
        process that trains it; {} for a run written before it existed."""
        if not self.info_path.exists():
            return {}
        info = json.loads(self.info_path.read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError(f"{self.info_path} does not hold a JSON object")
        return info

    def update_info(self, **fields: Any) -> None:
        try:
            info = self.read_info()
        except ValueError:  # a torn run.json (JSONDecodeError is one) is replaced, not kept
            info = {}
        atomic_write_text(self.info_path, json.dumps(jsonable({**info, **fields}), indent=2) + "\n")

"""``gankit report``: one self-contained HTML page about one or more runs, to read or to send.

Everything is inside the file: figures and GIFs as base64 data URIs, the style sheet inline, no
script or font from the network. The page holds, for each run, its status, its final metrics
beside their noise floors (the ``*_floor`` keys the evaluation writes), the training curves
(drawn from ``metrics.jsonl`` by :mod:`gankit.evaluation.curves`: a floor is a dashed line on
its metric's panel, never a panel of its own), every figure of its ``figures/`` folder and its
config; for several runs, first a table of the settings that differ between them and of their
metrics. Every piece of text from the run folders is escaped, so a run name or a config string
cannot change the page.
"""

from __future__ import annotations

import base64
import html
import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gankit.config import flat_settings, read_toml
from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.store.checkpoint import atomic_write_text
from gankit.store.rundir import RunFolder
from gankit.store.runs import RunEntry, read_run

# The figures the run's own code draws, in reading order; any other image in figures/ follows.
FIGURE_ORDER = ("final.png", "training.gif", "progress.png", "members.png")
MIME = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
        ".svg": "image/svg+xml"}
FLOOR = "_floor"

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1.5em; color: #1d2433; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2.2em; border-bottom: 2px solid #dde3ee; }
h3 { margin-top: 1.5em; color: #3a4560; }
.meta { color: #5b6680; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d3d9e6; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef2f9; }
td.floor { color: #5b6680; } td.better { color: #5b6680; text-align: left; }
.status { display: inline-block; padding: 0.05em 0.6em; border-radius: 0.8em; font-weight: 600;
          font-size: 0.9em; }
.finished { background: #d9f2df; color: #19612d; } .running { background: #dbe9ff; color: #1a4d99; }
.interrupted { background: #fff0cc; color: #7a5300; }
.diverged, .broken { background: #ffd9d9; color: #8a1c1c; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #e3e7ef; }
figcaption { color: #5b6680; font-size: 0.85em; }
pre { background: #f5f7fb; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #5b6680; font-size: 0.9em; }
"""

# Marks the page once every image has decoded (a headless browser or a test can wait for it) and
# counts script errors; it reads the page only, and loads nothing.
CHECK_SCRIPT = """
window.addEventListener("error", function () {
  document.body.dataset.errors = String(Number(document.body.dataset.errors || 0) + 1);
});
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var decoded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  document.body.dataset.images = decoded.length + "/" + images.length;
  document.body.dataset.imagesOk = String(decoded.length === images.length);
});
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _esc(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return _esc(value)
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def _data_uri(path: Path) -> str:
    mime = MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _image(path: Path, caption: str) -> str:
    return (f'<figure><img src="{_data_uri(path)}" alt="{_esc(caption)}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


class RunPage:
    """What the report shows of one run folder, read once."""

    def __init__(self, path: str | Path, evaluate: bool = True) -> None:
        self.folder = RunFolder(path)
        if not self.folder.path.is_dir():
            raise GankitError(f"run folder '{self.folder.path}' does not exist")
        if not self.folder.is_run():
            raise GankitError(f"'{self.folder.path}' is not a gankit run folder (no config.toml)")
        self.entry: RunEntry = read_run(self.folder.path, self.folder.path.parent)
        self.name = self.folder.path.name
        self.config_text = self.folder.config_path.read_text(encoding="utf-8", errors="replace")
        try:
            self.settings = flat_settings(read_toml(self.folder.config_path))
        except GankitError:
            self.settings = {}
        self.rows = self.folder.metrics.read()
        try:
            self.summary = self.folder.read_summary()
        except ValueError:
            self.summary = {}
        self.final = self.summary or next((r for r in reversed(self.rows) if set(r) - _TRAINING_KEYS), {})
        self.evaluated = ""  # where the sample-based metrics and floors came from, when added here
        if evaluate and not any(k.endswith(FLOOR) for k in self.final):
            self._add_floors()

    def _add_floors(self) -> None:
        """Training logs the task's metrics only; the sample-based ones and their noise floors
        (as ``gankit eval`` prints them) are computed here from the latest checkpoint, which is
        read, never written."""
        from gankit.api.run import Run

        try:
            run = Run.load(self.folder.path)
            fresh = run.evaluate(general=True)
        except (GankitError, OSError) as exc:
            self.evaluated = f"no noise floors: the checkpoint could not be evaluated ({exc})"
            return
        final = dict(self.final)
        for key, value in fresh.items():
            if key == "members" and isinstance(final.get("members"), dict):
                final["members"] = {**value, **final["members"]}
            elif key not in final:
                final[key] = value
        self.final = final
        self.evaluated = (f"sample-based metrics and noise floors evaluated for this report from the "
                          f"checkpoint at step {run.trainer.step_count}")

    def metrics(self) -> dict[str, Any]:
        """Final metrics without their floors (they go beside them) or bookkeeping."""
        return {k: v for k, v in self.final.items()
                if not k.endswith(FLOOR) and k not in ("step", "members", "elapsed_s", "seeds", "diverged")
                and isinstance(v, (int, float, str))}

    def figures(self) -> list[Path]:
        figures = self.folder.figures
        if not figures.is_dir():
            return []
        found = [p for p in sorted(figures.iterdir()) if p.suffix.lower() in MIME and p.name != "curves.png"]
        return sorted(found, key=lambda p: FIGURE_ORDER.index(p.name) if p.name in FIGURE_ORDER
                      else len(FIGURE_ORDER))

    def curves(self, scratch: Path) -> Path | None:
        """The run's training curves, drawn now from metrics.jsonl (the record: a curves.png of
        an older gankit, or of the run before it was resumed, may differ); its own curves.png
        where the log is empty."""
        if not self.rows:
            drawn = self.folder.figures / "curves.png"
            return drawn if drawn.exists() else None
        from gankit.evaluation.curves import save_training_curves

        return save_training_curves(self.rows, scratch / f"{id(self)}-curves.png")


_TRAINING_KEYS = {"step", "d_loss", "g_loss", "d_real", "d_fake", "elapsed_s"}


def _status_line(page: RunPage) -> str:
    e = page.entry
    planned = e.planned_steps if e.planned_steps else f"{e.max_seconds:g} s budget"
    parts = [f'<span class="status {_esc(e.status)}">{_esc(e.status)}</span>',
             f"task <b>{_esc(e.task_label or '?')}</b>", f"preset <b>{_esc(e.preset or '?')}</b>",
             f"step {e.step} of {_esc(planned)}"]
    if e.members > 1:
        parts.append(f"{e.members} members ({e.diverged_members} diverged)")
    if e.last_write is not None:
        parts.append("last written " + time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_write)))
    line = " · ".join(parts)
    if e.note:
        line += f'<br><span class="note">{_esc(e.note)}</span>'
    return f'<p class="meta">{line}</p>'


def _metrics_table(page: RunPage) -> str:
    metrics = page.metrics()
    if not metrics:
        return '<p class="note">No metrics logged yet.</p>'
    from gankit.core.directions import better, detection_note

    record = MemberMetrics.from_row(page.final)
    population = record.members > 1
    head = "<th>metric</th><th>value</th><th>noise floor</th><th>better</th>"
    if population:
        head += "<th>IQR over members</th><th>range</th>"
    lines = []
    for key, value in metrics.items():
        floor = page.final.get(key + FLOOR)
        cells = [f"<td>{_esc(key)}</td>", f"<td>{_number(value)}</td>",
                 f'<td class="floor">{_number(floor) if floor is not None else "–"}</td>',
                 f'<td class="better">{_esc(better(key))}</td>']
        if population:
            if key in record.values and all(isinstance(v, (int, float)) for v in record.values[key]):
                s = record.spread(key)
                cells += [f"<td>{_number(s.q1)} – {_number(s.q3)}</td>",
                          f"<td>{_number(s.min)} – {_number(s.max)}</td>"]
            else:
                cells += ["<td></td>", "<td></td>"]
        lines.append("<tr>" + "".join(cells) + "</tr>")
    step = page.final.get("step", "?")
    source = "summary.json" if page.summary else f"the latest logged evaluation (step {step})"
    added = f"; {_esc(page.evaluated)}" if page.evaluated else ""
    caption = (f'<p class="note">From {_esc(source)}{added}. A noise floor is the metric between two '
               "real samples: a value near it is as good as the metric can tell.</p>")
    auc = metrics.get("detection_auc")
    if isinstance(auc, float) and detection_note(auc):
        note = detection_note(auc, page.final.get("detection_auc_std"))
        caption += f'<p class="note">detection_auc {_esc(note)}</p>'
    return (f'<table class="metrics"><thead><tr>{head}</tr></thead><tbody>{"".join(lines)}</tbody></table>'
            + caption)


def _comparison(pages: Sequence[RunPage]) -> str:
    """Settings that differ between the runs, then every run's metrics, side by side."""
    keys = sorted({k for p in pages for k in p.settings})
    differ = [k for k in keys if len({repr(p.settings.get(k)) for p in pages}) > 1]
    head = "<th></th>" + "".join(f"<th>{_esc(p.name)}</th>" for p in pages)
    rows = [f"<tr><td>status</td>{''.join(f'<td>{_esc(p.entry.status)}</td>' for p in pages)}</tr>",
            f"<tr><td>step</td>{''.join(f'<td>{p.entry.step}</td>' for p in pages)}</tr>"]
    for key in differ:
        cells = "".join(f"<td>{_esc(p.settings.get(key, '–'))}</td>" for p in pages)
        rows.append(f"<tr><td>{_esc(key)}</td>{cells}</tr>")
    metric_keys = list(dict.fromkeys(k for p in pages for k in p.metrics()))
    metric_rows = []
    for key in metric_keys:
        cells = ""
        for p in pages:
            value, floor = p.metrics().get(key), p.final.get(key + FLOOR)
            shown = "–" if value is None else _number(value)
            if floor is not None:
                shown += f' <span class="note">(floor {_number(floor)})</span>'
            cells += f"<td>{shown}</td>"
        metric_rows.append(f"<tr><td>{_esc(key)}</td>{cells}</tr>")
    same = "" if differ else '<p class="note">The runs share every setting.</p>'
    return ("<h2>Side by side</h2><h3>Settings that differ</h3>" + same
            + f'<table class="settings"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            + f'<h3>Metrics</h3><table class="metrics"><thead><tr>{head}</tr></thead>'
            + f'<tbody>{"".join(metric_rows)}</tbody></table>')


def _run_section(page: RunPage, scratch: Path) -> str:
    parts = [f'<section class="run"><h2>{_esc(page.name)}</h2>', _status_line(page),
             f'<p class="note">{_esc(page.folder.path)}</p>', "<h3>Final metrics</h3>", _metrics_table(page)]
    curves = page.curves(scratch)
    if curves is not None:
        parts += ["<h3>Training curves</h3>",
                  _image(curves, "losses, mean D outputs and metrics by step; a dashed line is the metric's "
                                 "noise floor; metrics evaluated once or constant are listed by value")]
    figures = page.figures()
    if figures:
        parts.append("<h3>Figures</h3>")
        parts += [_image(path, path.name) for path in figures]
    parts += ["<details><summary>config.toml</summary>", f"<pre>{_esc(page.config_text)}</pre></details>",
              "</section>"]
    return "\n".join(parts)


def write_report(runs: str | Path | Sequence[str | Path], out: str | Path, title: str | None = None,
                 evaluate: bool = True) -> Path:
    """Write the report of ``runs`` (run folders) to ``out`` (an .html file) and return its path.

    ``evaluate`` computes the sample-based metrics and their noise floors from each run's latest
    checkpoint when its summary lacks them (a second or so per run); without it the report shows
    what the run folder holds.
    """
    paths = [runs] if isinstance(runs, (str, Path)) else list(runs)
    if not paths:
        raise GankitError("give at least one run folder")
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise GankitError(f"--out must end in .html, got '{out.name}'")
    if not out.parent.is_dir():
        raise GankitError(f"cannot write '{out}': folder '{out.parent}' does not exist")
    pages = [RunPage(path, evaluate) for path in paths]
    title = title or ("gankit report: " + ", ".join(p.name for p in pages))
    with tempfile.TemporaryDirectory() as scratch:
        body = [f"<h1>{_esc(title)}</h1>",
                f'<p class="meta">{len(pages)} run(s) · written {time.strftime("%Y-%m-%d %H:%M")}</p>']
        if len(pages) > 1:
            body.append(_comparison(pages))
        body += [_run_section(page, Path(scratch)) for page in pages]
    document = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{_esc(title)}</title><style>{STYLE}</style>"
                f"<script>{CHECK_SCRIPT}</script></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")
    try:
        atomic_write_text(out, document)
    except OSError as exc:
        raise GankitError(f"cannot write '{out}': {exc.strerror}") from None
    return out

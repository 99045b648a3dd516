"""``by_condition.png`` of a table conditioned on columns: one row of panels per value asked
for, the generated rows asked for it against the held-out rows near it, for a few columns.

The values are the largest groups of :class:`gankit.tasks.table_condition_metrics.ConditionGroups`
(at most ``MAX_GROUPS``): each category value (the most common ones), each quarter of a number
column's training values, asked for at its middle training value, and their combinations. The
panels are those of ``columns.png`` (:mod:`gankit.tasks.table_figures`): bars of each category's
share, histograms of numbers over the column's whole range, so that rows can be compared from one
value to the next. ``ROWS_ASKED`` rows per value keep it at a second or two at the end of a run.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gankit.tasks.table_condition_metrics import ConditionGroups
from gankit.tasks.table_data import TableData
from gankit.tasks.table_figures import draw_categories, draw_numbers

MAX_GROUPS = 6  # rows of panels: the values asked for
MAX_COLUMNS = 4  # columns drawn: the table's first ones that are not conditions
ROWS_ASKED = 300  # generated rows per value
BINS = 15  # a histogram's bins: fewer than columns.png's, the held-out rows of one value are few
SEED = 100


def by_condition_figure(data: TableData, names: Sequence[str], columns: np.ndarray,
                        sample: Callable[[dict[str, Any], int, int], Any], path: Path) -> Path | None:
    """Draw ``by_condition.png`` at ``path`` for a table conditioned on the columns ``names``
    (``columns``: their positions in an encoded row); ``sample(condition, n, seed)`` returns
    generated rows as the user gets them (a DataFrame). None when every column is a condition."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    codec = data.codec
    groups = ConditionGroups(codec, names, data.train_rows[:, columns])
    shown = [i for i, c in enumerate(codec.modelled) if c.name not in names][:MAX_COLUMNS]
    if not shown:
        return None
    keys = groups.largest(MAX_GROUPS)
    real_views = codec.views(data.holdout_rows)
    real_keys = groups.keys(data.holdout_rows[:, columns])
    fig = Figure(figsize=(3.0 * len(shown) + 0.6, 2.0 * len(keys) + 0.5))
    axes = np.atleast_2d(fig.subplots(len(keys), len(shown), squeeze=False))
    for row, key in enumerate(keys):
        asked, label = groups.request(key)
        fake_views = codec.views_of(sample(asked, ROWS_ASKED, SEED + row))
        near = real_keys == key
        for ax, i in zip(axes[row], shown):
            column, real, fake = codec.modelled[i], real_views[i][near], fake_views[i]
            ax.tick_params(labelsize=6)
            if column.categorical:
                draw_categories(ax, column, real, fake)
            elif draw_numbers(ax, column, real, fake, BINS, whole=real_views[i]) == "log":
                ax.xaxis.set_minor_formatter(NullFormatter())  # 2x10^1, 3x10^1...: unreadable this small
            if row == 0:
                ax.set_title(column.name, fontsize=9)
        text = f"asked {label}; {int(near.sum())} held-out rows"
        axes[row, 0].set_ylabel("\n".join(textwrap.wrap(text, 28)), fontsize=7)
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"{ROWS_ASKED} rows asked for each value (red) against the held-out rows near it (blue)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return Path(path)

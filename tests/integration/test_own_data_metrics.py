"""Own-data metrics through the evaluator, ``gankit eval`` and the report (issue 24), on a small
table sorted by a category with missing values: the general metrics compare with disjoint
halves of the held-out rows, and every metric says which way is better. The run trains two
steps: only its folder and checkpoint are needed."""


import numpy as np
import pandas as pd
import pytest
import torch

import gankit
from gankit.api.reporting import write_report
from gankit.cli import main
from gankit.evaluation import Evaluator
from helpers import HtmlPage

TINY = {"model.g_hidden": [16], "model.d_hidden": [16], "train.batch_size": 40, "log.eval_every": 2,
        "log.snapshot_every": 2, "log.checkpoint_every": 2}


def animals(n, seed):
    """A category moving every other column, numbers with missing values, sorted by the category."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["a", "b", "c"], n, p=[0.45, 0.2, 0.35])
    centre = np.select([kind == "a", kind == "b"], [0.0, 3.0], 6.0)
    frame = pd.DataFrame({"kind": kind, "x": (centre + rng.normal(size=n)).round(2),
                          "mass": (1000 + 300 * centre + 100 * rng.normal(size=n)).round(),
                          "sex": rng.choice(["f", "m"], n)})
    frame.loc[rng.random(n) < 0.04, "x"] = np.nan
    frame.loc[rng.random(n) < 0.03, "sex"] = np.nan
    return frame.sort_values("kind", kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    path = root / "animals.csv"
    animals(344, seed=0).to_csv(path, index=False)
    return gankit.train(data=str(path), steps=2, out=root / "run", figures=False, set=TINY, progress=False)


def test_the_evaluator_scores_real_rows_near_the_held_out_floors(run):
    """Fresh rows of the table's law, as a perfect generator would give them: before, against
    references drawn with replacement from the training rows, precision was about 0.06 against
    a floor of 0.998 and coverage 0.15 against 1.0."""
    task = run.trainer.task
    fresh = torch.from_numpy(task.codec.encode(animals(2000, seed=1)))[None]
    values = Evaluator(run.trainer).evaluate(general=True)
    scored = Evaluator(run.trainer).evaluate_members(general=True, fake=fresh).to_row()
    assert values["general_rows"] == scored["general_rows"] == 34  # 69 held out: two halves of 34
    for key, allowed in {"precision": 0.25, "recall": 0.25, "coverage": 0.25, "density": 0.45}.items():
        assert abs(scored[key] - scored[f"{key}_floor"]) < allowed, (key, scored[key], scored[f"{key}_floor"])
    assert scored["precision_floor"] < 0.999 or scored["coverage_floor"] < 1.0  # no duplicates behind them


def test_eval_prints_which_way_is_better(run, capsys):
    assert main(["eval", str(run.path)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if not line.startswith("   ")}
    assert lines["precision"].rstrip().endswith("(higher is better)")
    assert lines["mmd_rbf"].rstrip().endswith("(lower is better)")
    assert lines["quality_score"].rstrip().endswith("(higher is better)")
    assert lines["detection_auc"].rstrip().endswith("(lower is better, down to 0.5)")
    assert lines["detection_score"].rstrip().endswith("(higher is better)")
    assert "detection_auc_std" in lines and "general_rows" in lines
    assert "better" not in lines["precision_floor"]


def test_the_report_says_which_way_is_better(run, tmp_path):
    page = HtmlPage(write_report(run.path, tmp_path / "r.html").read_text())
    metrics = page.tables[0]
    assert metrics[0] == ["metric", "value", "noise floor", "better"]
    rows = {row[0]: row for row in metrics[1:]}
    assert rows["quality_score"][3] == "higher is better"
    assert rows["detection_auc"][3] == "lower is better, down to 0.5"
    assert rows["detection_score"][3] == "higher is better" and rows["detection_auc_std"][3] == ""
    assert rows["d_real_mean"][3] == ""

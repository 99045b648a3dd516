import csv
import json

import pytest

from gankit.api.comparison import compare, grid_variants, parse_variant
from gankit.cli import main
from gankit.core.errors import GankitError


def test_grid_is_the_cartesian_product():
    variants = grid_variants(["train.loss=minimax,hinge", "train.lr_g=1e-4,1e-3"])
    assert [v.name for v in variants] == ["loss=minimax lr_g=1e-4", "loss=minimax lr_g=1e-3",
                                          "loss=hinge lr_g=1e-4", "loss=hinge lr_g=1e-3"]
    assert variants[3].overrides == [{"train": {"loss": "hinge"}}, {"train": {"lr_g": 1e-3}}]


def test_variant_parsing_and_errors():
    v = parse_variant("sn: model.spectral_norm=true train.loss=hinge")
    assert v.name == "sn" and v.overrides[0] == {"model": {"spectral_norm": True}}
    for bad in ("no colon here", ": train.loss=hinge", "name:"):
        with pytest.raises(GankitError, match="--variant takes"):
            parse_variant(bad)
    with pytest.raises(GankitError, match="--vary takes"):
        grid_variants(["train.loss"])
    with pytest.raises(GankitError, match="nothing to compare"):
        compare([], "/tmp/never")


def test_compare_writes_table_csv_figure_from_the_runs(tmp_path):
    variants = [parse_variant("slow: train.lr_g=1e-5 train.lr_d=1e-5"),
                parse_variant("fast: train.lr_g=1e-3 train.lr_d=1e-3")]
    rows = compare(variants, tmp_path, preset="seed", seeds=2, steps=150,
                   base=[{"log": {"eval_samples": 1024, "eval_every": 50}}])
    assert [r["config"] for r in rows] == ["slow", "fast"]
    for name in ("comparison.md", "comparison.csv", "comparison.png"):
        assert (tmp_path / name).exists()
    summary = json.loads((tmp_path / "runs" / "fast" / "summary.json").read_text())
    values = sorted(summary["members"]["a_w1"])
    with open(tmp_path / "comparison.csv") as handle:
        table = {row["config"]: row for row in csv.DictReader(handle)}
    assert float(table["fast"]["a_w1_median"]) == pytest.approx(sum(values) / 2, rel=1e-4)
    assert table["fast"]["seeds"] == "2"
    # the faster learning rate moves further from the initial state in the same budget
    assert float(table["fast"]["a_w1_median"]) < float(table["slow"]["a_w1_median"])


def test_compare_command(tmp_path, capsys):
    assert main(["compare", "--preset", "seed", "--vary", "train.loss=minimax,nonsaturating",
                 "--seeds", "2", "--steps", "20", "--set", "log.eval_samples=512",
                 "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "loss=minimax" in out and "loss=nonsaturating" in out and "success" in out
    page = (tmp_path / "report.html").read_text()
    assert "Settings that differ" in page and "train.loss" in page and "nonsaturating" in page
    for run in (tmp_path / "runs").iterdir():  # each configuration's own figures, as after train
        figures = {p.name for p in (run / "figures").iterdir()}
        assert {"final.png", "curves.png", "a_hist.png", "members.png"} <= figures, run.name

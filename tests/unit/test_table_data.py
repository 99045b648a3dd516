"""TableData: what the table metrics and figures read, built without a Table."""

import numpy as np
import pandas as pd

from gankit.tasks.table_codec import TableCodec
from gankit.tasks.table_data import TableData, subsample
from gankit.tasks.table_metrics import table_metrics


def test_subsample_keeps_small_sets_whole_and_draws_large_ones_in_order():
    rows = np.arange(50)[:, None]
    assert subsample(rows, 50, 0) is rows
    picked = subsample(rows, 10, 3)
    assert len(picked) == 10 and (np.diff(picked[:, 0]) > 0).all()
    assert np.array_equal(picked, subsample(rows, 10, 3))
    assert not np.array_equal(picked, subsample(rows, 10, 4))


def test_the_cache_makes_each_value_once():
    data = TableData(codec=None, train_rows=np.zeros((2, 1)), holdout_rows=np.zeros((2, 1)))
    made = []
    for _ in range(2):
        assert data.cached("pca", lambda: made.append(1) or "axes") == "axes"
    assert made == [1] and data.cache == {"pca": "axes"}


def test_metrics_score_a_table_data_alone_and_cache_their_references():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "k": rng.choice(["x", "y", "z"], 60)})
    codec = TableCodec.fit(frame, frame[:45])
    data = TableData(codec, codec.encode(frame[:45]), codec.encode(frame[45:]), target="k")
    values = table_metrics(data, data.train_rows)  # training rows score their floors
    assert values["quality_score"] == values["quality_score_floor"]
    assert "ml_efficacy" in values and set(data.cache) == {"references", "floors"}

import torch

from gankit.tasks import make_task
from gankit.tasks.base import RowSampler


def test_row_sampler_draws_each_row_once_per_epoch_across_batches():
    rows = torch.arange(10.0)[:, None]
    sampler = RowSampler(rows, torch.Generator().manual_seed(0))
    first_epoch = torch.cat([sampler.draw(4), sampler.draw(4), sampler.draw(2)]).flatten()
    assert sorted(first_epoch.tolist()) == list(range(10))
    second = torch.cat([sampler.draw(7), sampler.draw(3)]).flatten()
    assert sorted(second.tolist()) == list(range(10)) and not torch.equal(first_epoch, second)


def test_row_sampler_resumes_mid_epoch_exactly():
    rows = torch.randn(13, 2, 3)
    straight = RowSampler(rows, torch.Generator().manual_seed(1))
    straight.draw(5)
    saved = straight.state_dict()
    expected = torch.cat([straight.draw(6), straight.draw(9)])
    resumed = RowSampler(rows, torch.Generator().manual_seed(99))
    resumed.load_state_dict(saved)
    assert torch.equal(torch.cat([resumed.draw(6), resumed.draw(9)]), expected)


def test_built_in_tasks_have_a_shape_and_identity_encode_decode():
    task = make_task("ring")
    assert task.shape == (2,) and task.preset == "ring"
    x = task.sample(5, torch.Generator().manual_seed(0))
    assert torch.equal(task.encode(task.decode(x)), x)
    assert make_task("parabola").shape == (15,)


def test_a_data_source_is_a_task_name_or_a_path_some_task_accepts(monkeypatch, tmp_path):
    import pytest

    from gankit.core.errors import GankitError
    from gankit.tasks import TASKS, data_source
    from gankit.tasks.parabola import Parabola

    class ReadsDat(Parabola):
        @classmethod
        def accepts(cls, source):
            return source.endswith(".dat")

    monkeypatch.setitem(TASKS._items, "dat", ReadsDat)
    assert data_source("ring") == ("ring", {})
    assert data_source("x/y.dat") == ("dat", {"path": "x/y.dat"})
    with pytest.raises(GankitError, match="no dataset reads 'x/y.png'"):
        data_source("x/y.png")
    assert data_source("rng") == ("rng", {})  # validation answers it with a did-you-mean

import pytest

from gankit.api.training import train
from gankit.config.resolve import resolve_config
from gankit.session.loop import Budget
from gankit.training.trainer import Trainer


def _budget(steps, seconds, elapsed):
    config = resolve_config("seed", overrides=[{"train": {"steps": steps, "max_seconds": seconds}}])
    return Budget(config.train.steps, config.train.max_seconds, already_elapsed=elapsed)


def test_progress_follows_steps_or_time_whichever_is_further():
    assert _budget(100, 0.0, 0.0).progress(25) == 0.25
    assert _budget(100, 1000.0, 500.0).progress(25) == pytest.approx(0.5, abs=0.01)
    assert _budget(100, 1000.0, 0.0).progress(75) == 0.75
    no_step_limit = _budget(0, 1000.0, 250.0)
    assert no_step_limit.progress(10**6) == pytest.approx(0.25, abs=0.01)
    assert not no_step_limit.used_up(10**6) and _budget(0, 1.0, 2.0).used_up(3)


def test_a_time_budget_without_a_step_limit_drives_the_schedule_by_time(tmp_path, monkeypatch):
    seen = []
    real_step = Trainer.step

    def recording(self, progress=None):
        seen.append(progress)
        return real_step(self, progress)

    monkeypatch.setattr(Trainer, "step", recording)
    run = train(preset="seed", steps=0, out=tmp_path / "r", figures=False,
                set={"train.max_seconds": 1.0, "train.lr_schedule": "linear"})
    assert run.summary["step"] == len(seen) > 10
    assert seen == sorted(seen) and seen[0] < 0.1 and 0.9 < seen[-1] <= 1.0
    assert run.folder.metrics.read()[-1]["elapsed_s"] >= 1.0

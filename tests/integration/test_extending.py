"""Adding a task and an architecture is one class and one registration each.

The task here has matrix-shaped points (2 x 3) read from a fixed set of rows, so it also checks
that a sampler with an epoch position resumes exactly; the architecture is a small convolutional
pair with no stacked path, so its members run on the generic (vmap) path.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import gankit
from gankit.core.errors import GankitError
from gankit.nets.spec import ARCHITECTURES, Architecture
from gankit.tasks import TASKS
from gankit.tasks.base import RowSampler, Task


@dataclass
class Matrices(Task):
    """Points [[a, 2a, 3a], [-a, 0, a]] for 50 fixed values of a in [0, 1]."""

    rows: int = 50
    name = "matrices"

    def __post_init__(self) -> None:
        a = torch.linspace(0, 1, self.rows)[:, None]
        self.data = torch.stack([torch.cat([a, 2 * a, 3 * a], 1), torch.cat([-a, 0 * a, a], 1)], 1)

    @property
    def shape(self) -> tuple[int, ...]:
        return (2, 3)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.data[torch.randint(self.rows, (n,), generator=generator)]

    def sampler(self, generator: torch.Generator) -> RowSampler:
        return RowSampler(self.data, generator)

    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        """Mean distance from a generated point to its nearest real one."""
        real = self.data.reshape(1, self.rows, -1).numpy()
        gaps = np.linalg.norm(fake.reshape(len(fake), 1, -1) - real, axis=-1)
        return {"nearest_real": float(gaps.min(1).mean())}

    def draw_samples(self, ax: Any, real: np.ndarray, fake: np.ndarray) -> None:
        ax.plot(real.reshape(len(real), -1).T)


@dataclass
class ConvOptions:
    channels: int = 16


def build_conv(model: Any, shape: tuple[int, ...], role: str, options: ConvOptions) -> nn.Module:
    channels = options.channels
    if role == "generator":
        return nn.Sequential(nn.Linear(model.noise_dim, 64), nn.ReLU(), nn.Linear(64, 6),
                             nn.Unflatten(1, (2, 3)))
    return nn.Sequential(nn.Conv1d(shape[0], channels, kernel_size=2), nn.LeakyReLU(0.2), nn.Flatten(),
                         nn.Linear(2 * channels, 1))


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(TASKS._items, "matrices", Matrices)
    monkeypatch.setitem(ARCHITECTURES._items, "conv", Architecture(build_conv, options=ConvOptions))


def _train(out, steps, preset="seed", **settings):
    return gankit.train(data="matrices", steps=steps, seeds=3, out=out, figures=False, preset=preset,
                        set={"model.arch": "conv", "model.options": {"channels": 32}, "model.noise_dim": 4,
                             "log.eval_samples": 64, "log.log_every": 5, "log.eval_every": 10,
                             "log.snapshot_every": 10}, **settings)


def test_a_new_task_and_architecture_train_as_a_population_and_resume_bit_exact(registered, tmp_path):
    straight = _train(tmp_path / "straight", 20)
    assert straight.sample(7).shape == (7, 2, 3)
    assert type(straight.trainer.discriminator).__name__ == "VmapPopulation"
    assert straight.trainer.discriminator.state_dict()["0__weight"].shape == (3, 32, 2, 2)
    _train(tmp_path / "split", 13)
    resumed = gankit.resume(tmp_path / "split", steps=20, figures=False)
    assert torch.equal(resumed.trainer.g_flat, straight.trainer.g_flat)
    assert torch.equal(resumed.trainer.d_flat, straight.trainer.d_flat)
    assert resumed.summary == straight.summary
    assert len(straight.summary["members"]["nearest_real"]) == 3


def test_training_the_new_pair_improves_its_metric(registered, tmp_path):
    run = _train(tmp_path / "r", 400, preset="default")
    rows = [row for row in run.folder.metrics.read() if "nearest_real" in row]
    assert rows[-1]["nearest_real"] < 0.6 * rows[0]["nearest_real"], (rows[0], rows[-1])


def test_an_unknown_architecture_option_is_refused_with_the_accepted_ones(registered, tmp_path):
    with pytest.raises(GankitError, match="model.options.chanels.*did you mean 'channels'"):
        gankit.train(data="matrices", steps=5, out=tmp_path / "r", set={"model.arch": "conv",
                                                                         "model.options": {"chanels": 5}})

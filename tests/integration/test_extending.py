"""Adding a task, an architecture, an objective or a metric is one definition and one
registration each.

The task here has matrix-shaped points (2 x 3) read from a fixed set of rows, so it also checks
that a sampler with an epoch position resumes exactly; the architecture is a small convolutional
pair with no stacked path, so its members run on the generic (vmap) path. The objective has no
hand-written logit gradient, so on the plain MLP the fast path differentiates its losses by
autograd on the logits; the metric is a function of (real, fake) arrays.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import gankit
from gankit.core.errors import GankitError
from gankit.metrics import METRICS
from gankit.nets.spec import ARCHITECTURES, Architecture
from gankit.objectives import OBJECTIVES
from gankit.objectives.losses import Objective
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


def sigmoid_squares_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Least squares on D's probabilities, not its logits: E[(D(x) - 1)^2] + E[D(G(z))^2]."""
    return ((torch.sigmoid(real) - 1) ** 2).mean(-1) + (torch.sigmoid(fake) ** 2).mean(-1)


def sigmoid_squares_g_loss(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    return ((torch.sigmoid(fake) - 1) ** 2).mean(-1)


def middle_gap(real: np.ndarray, fake: np.ndarray) -> float:
    """|mean of the middle entry of the second row, generated minus real|; that entry is 0 in
    every real point, so between two real samples the metric is exactly 0."""
    return abs(float(fake[:, 4].mean()) - float(real[:, 4].mean()))


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(TASKS._items, "matrices", Matrices)
    monkeypatch.setitem(ARCHITECTURES._items, "conv", Architecture(build_conv, options=ConvOptions))
    monkeypatch.setitem(OBJECTIVES._items, "sigmoid_squares", Objective(
        "sigmoid_squares", sigmoid_squares_d_loss, sigmoid_squares_g_loss, "a test's own objective"))
    monkeypatch.setitem(METRICS._items, "middle_gap", middle_gap)


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


def _train_objective(out, backward):
    # The plain MLP (no model.arch), so that "auto" takes the hand-written backward, which has
    # no formula for this objective's logit gradient and asks autograd for it.
    return gankit.train(data="matrices", steps=200, seeds=3, out=out, figures=False, preset="default",
                        loss="sigmoid_squares", set={"model.noise_dim": 4, "log.eval_samples": 64,
                                                     "log.log_every": 10, "log.eval_every": 20,
                                                     "train.backward": backward})


def test_a_new_objective_trains_and_its_logit_gradient_by_autograd_gives_autograds_run(registered, tmp_path):
    run = _train_objective(tmp_path / "auto", "auto")
    assert run.trainer.gradients.name == "hand-written" and run.trainer.objective.name == "sigmoid_squares"
    assert run.folder.load_config().train.loss == "sigmoid_squares"
    rows = run.folder.metrics.read()
    # D's loss of this objective is near 1/4 + 1/4 while D(x) is near 1/2 (cross-entropy's: log 4)
    assert abs(rows[0]["d_loss"] - 0.5) < 0.05, rows[0]
    assert all(0 <= row["d_loss"] <= 2 and 0 <= row["g_loss"] <= 1 for row in rows)
    scored = [row for row in rows if "nearest_real" in row]
    assert scored[-1]["nearest_real"] < 0.6 * scored[0]["nearest_real"], (scored[0], scored[-1])

    reference = _train_objective(tmp_path / "autograd", "autograd")
    assert reference.trainer.gradients.name == "autograd"
    assert torch.equal(run.trainer.g_flat, reference.trainer.g_flat)
    assert torch.equal(run.trainer.d_flat, reference.trainer.d_flat)
    assert run.summary == reference.summary
    drop_time = [{k: v for k, v in row.items() if k != "elapsed_s"} for row in rows]
    assert drop_time == [{k: v for k, v in row.items() if k != "elapsed_s"}
                         for row in reference.folder.metrics.read()]


def test_a_new_metric_is_reported_with_its_floor_by_a_general_evaluation(registered, tmp_path):
    run = _train(tmp_path / "r", 10)
    metrics = run.evaluate(general=True)
    assert metrics["members"]["middle_gap_floor"] == [0.0, 0.0, 0.0]
    assert metrics["middle_gap_floor"] == 0.0
    real, fake = run.evaluator.draws()  # the draws every evaluation scores: 64 points per member
    assert real.shape == fake.shape == (3, 64, 2, 3) and torch.all(real[:, :, 1, 1] == 0)
    expected = [abs(float(fake[i, :, 1, 1].numpy().mean())) for i in range(3)]
    assert metrics["members"]["middle_gap"] == pytest.approx(expected, rel=1e-6)
    assert metrics["middle_gap"] == pytest.approx(float(np.median(expected)), rel=1e-6)
    assert min(expected) > 0  # G is not on the data yet: the metric tells it from its floor
    assert "middle_gap" not in run.evaluate()  # only general evaluations compute it

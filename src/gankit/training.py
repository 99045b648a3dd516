"""The one training loop: Goodfellow et al. 2014, Algorithm 1.

Each iteration takes ``k`` discriminator steps on fresh real and generated batches, then one
generator step whose loss comes from a fresh forward pass through the *updated* D (the seed's
program reused the pre-update graph, which current PyTorch rejects).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gankit.config import Config
from gankit.errors import GankitError
from gankit.models import Discriminator, Generator
from gankit.objectives import OBJECTIVES
from gankit.optim import FlatAdam, WeightAverage, flat_grad, flatten_parameters
from gankit.tasks import Task, make_task

# Offsets that give each random stream of a run its own seed.
DATA_STREAM, NOISE_STREAM, EVAL_STREAM = 1, 2, 3


def stream_seed(seed: int, stream: int) -> int:
    return seed * 1000 + stream


@dataclass
class StepStats:
    """Tensors from the last iteration; turned into floats only when someone logs them."""

    d_loss: torch.Tensor
    g_loss: torch.Tensor
    real_logits: torch.Tensor
    fake_logits: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        return {
            "d_loss": float(self.d_loss),
            "g_loss": float(self.g_loss),
            "d_real": float(torch.sigmoid(self.real_logits).mean()),
            "d_fake": float(torch.sigmoid(self.fake_logits).mean()),
        }


def resolve_device(name: str) -> torch.device:
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GankitError(f"device '{name}' was asked for, but PyTorch sees no CUDA device; "
                          "use --device cpu")
    return device


class Trainer:
    """A GAN, its optimizers and its random streams, built from a config; ``step()`` trains."""

    def __init__(self, config: Config, task: Task | None = None) -> None:
        self.config = config
        self.task = task or make_task(config.data.name, config.data.params)
        self.device = resolve_device(config.device)
        self.objective = OBJECTIVES.get(config.train.loss)
        if config.train.threads:
            torch.set_num_threads(config.train.threads)
        m, t = config.model, config.train
        with torch.random.fork_rng(devices=[]):  # initial weights from the run's seed only
            torch.manual_seed(config.seed)
            generator = Generator(m.noise_dim, self.task.dim, m.g_hidden, m.activation)
            discriminator = Discriminator(self.task.dim, m.d_hidden, m.activation)
        self.generator = generator.to(self.device)
        self.discriminator = discriminator.to(self.device)
        self.g_flat = flatten_parameters(self.generator)
        self.d_flat = flatten_parameters(self.discriminator)
        self.g_params = list(self.generator.parameters())
        self.d_params = list(self.discriminator.parameters())
        self.opt_g = FlatAdam(self.g_flat, t.lr_g, tuple(t.betas_g), t.eps)  # type: ignore[arg-type]
        self.opt_d = FlatAdam(self.d_flat, t.lr_d, tuple(t.betas_d), t.eps)  # type: ignore[arg-type]
        self.ema_generator: Generator | None = None
        self.ema: WeightAverage | None = None
        if t.ema > 0:
            self.ema_generator = copy.deepcopy(self.generator)
            self.ema = WeightAverage(flatten_parameters(self.ema_generator), t.ema)
        self.data_rng = torch.Generator(self.device).manual_seed(stream_seed(config.seed, DATA_STREAM))
        self.noise_rng = torch.Generator(self.device).manual_seed(stream_seed(config.seed, NOISE_STREAM))
        self.step_count = 0

    def noise(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.config.model.noise_dim, generator=rng or self.noise_rng,
                           device=self.device)

    def step(self) -> StepStats:
        """One iteration of Algorithm 1."""
        batch = self.config.train.batch_size
        for _ in range(self.config.train.d_steps):
            real = self.task.sample(batch, self.data_rng)
            with torch.no_grad():
                fake = self.generator(self.noise(batch))
            # One pass over real and fake together: D has no batch statistics, so this equals
            # two passes and halves the number of small matrix products.
            logits = self.discriminator(torch.cat([real, fake]))
            real_logits, fake_logits = logits[:batch], logits[batch:]
            d_loss = self.objective.d_loss(real_logits, fake_logits)
            self.opt_d.step(flat_grad(d_loss, self.d_params))
        g_loss = self.objective.g_loss(self.discriminator(self.generator(self.noise(batch))))
        self.opt_g.step(flat_grad(g_loss, self.g_params))
        if self.ema is not None:
            self.ema.update(self.g_flat)
        self.step_count += 1
        return StepStats(d_loss.detach(), g_loss.detach(), real_logits.detach(),
                         fake_logits.detach())

    def nonfinite_network(self) -> str | None:
        """The name of a network whose weights hold NaN or infinity, if any."""
        for name, flat in (("generator", self.g_flat), ("discriminator", self.d_flat)):
            if not torch.isfinite(flat).all():
                return name
        return None

    @property
    def eval_generator(self) -> Generator:
        """The generator used for samples and metrics: the weight average when EMA is on."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generated points; a given ``seed`` makes the noise (not the run) reproducible."""
        rng = None
        if seed is not None:
            rng = torch.Generator(self.device).manual_seed(seed)
        return self.eval_generator(self.noise(n, rng)).cpu().numpy()

    @torch.no_grad()
    def evaluate(self, n: int | None = None) -> dict[str, float]:
        """The task's metrics plus mean D on real and generated data, on fixed evaluation noise.

        The evaluation draws come from their own stream, seeded afresh each time, so metrics
        at different steps compare the same noise and training randomness is untouched.
        """
        n = n or self.config.log.eval_samples
        rng = torch.Generator(self.device).manual_seed(stream_seed(self.config.seed, EVAL_STREAM))
        real = self.task.sample(n, rng)
        fake = self.eval_generator(self.noise(n, rng))
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        metrics = self.task.metrics(fake.cpu().numpy())
        metrics["d_real_mean"] = float(torch.sigmoid(real_logits).mean())
        metrics["d_fake_mean"] = float(torch.sigmoid(fake_logits).mean())
        return metrics

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to continue exactly where this one stands."""
        return {
            "step": self.step_count,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "ema_generator": None if self.ema_generator is None else self.ema_generator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "data_rng": self.data_rng.get_state(),
            "noise_rng": self.noise_rng.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        if self.ema_generator is not None:
            if state.get("ema_generator") is None:
                raise GankitError("the checkpoint holds no EMA generator, but the config asks for one")
            self.ema_generator.load_state_dict(state["ema_generator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.data_rng.set_state(state["data_rng"])
        self.noise_rng.set_state(state["noise_rng"])
        self.step_count = int(state["step"])

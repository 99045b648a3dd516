"""Theory lab: Goodfellow et al. 2014, sec. 4.1, checked numerically on 1-D data with known densities.

Proposition 1 says that for a fixed G the best discriminator is D*(x) = p_r / (p_r + p_g);
Theorem 1 says that then V(D*, G) = C(G) = -log 4 + 2 JSD(p_r || p_g), smallest (-log 4) exactly
when p_g = p_r, where D* = 1/2. With p_r a Gaussian mixture every side of these equations is
computable: densities and JSD by numerical integration, V by Monte Carlo with a trained D. Three
experiments put numbers and pictures on them; ``run_theory`` runs all three (docs/THEORY.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from gankit.api import theory_figures as draw
from gankit.config import Config
from gankit.config.resolve import resolve_config
from gankit.nets.layers import Discriminator, initialise
from gankit.objectives import OBJECTIVES, bce_d_loss, value_function
from gankit.store.checkpoint import atomic_write_text
from gankit.tasks.mixture1d import JSD_BINS, Mixture1D, discrete_jsd
from gankit.training.optim import LR_SCHEDULES, FlatAdam, flat_grad, flatten_parameters
from gankit.training.trainer import Trainer

LOG4 = math.log(4)
SEED = 0
REGION_FRACTION = 0.01  # D is compared with D* where p_r + p_g exceeds this fraction of its maximum
GRID_POINTS = 20001
LOSSES = ("minimax", "nonsaturating")
TARGETS = {"d_mean_abs_error": 0.02, "value_gap": 0.02, "d_equilibrium": 0.05}
# The quick run's looser targets: twice the worst value QUICK reached over seeds 0-9, rounded up
# to a multiple of 0.01 (0.024, 0.0135, 0.079; docs/THEORY.md, "The quick mode"). They stay far
# from what no training would give: an untrained D is 0.32-0.38 from D*, and the GANs' mean D
# goes 0.32-0.39 away from 1/2 before it comes back.
QUICK_TARGETS = {"d_mean_abs_error": 0.05, "value_gap": 0.03, "d_equilibrium": 0.16}

# The fixed generator of experiments 1 and 2: one Gaussian overlapping both modes of p_r.
P_G = Mixture1D(means=0.5, stds=1.2, weights=1.0)

# Experiment 3's GAN, as overrides of the default preset. D learns ten times faster than G so
# that it stays near D* as Algorithm 1 intends (the two time-scale rule, Heusel et al. 2017),
# which also lets it reject the first fakes confidently: the regime where eq. (3) saturates.
GAN_OVERRIDES: dict[str, Any] = {
    "data": {"name": "mixture1d"},
    "model": {"noise_dim": 4, "g_hidden": [64, 64], "d_hidden": [64, 64], "activation": "leaky_relu"},
    "train": {"batch_size": 256, "lr_g": 1e-4, "lr_d": 1e-3, "betas_g": [0.5, 0.999],
              "betas_d": [0.5, 0.999], "d_steps": 1, "ema": 0.0},
}


@dataclass(frozen=True)
class Settings:
    """Sizes of the three experiments; ``QUICK`` shrinks them for a first look and the tests."""

    d_hidden: tuple[int, ...] = (64, 64)
    d_activation: str = "silu"  # D* is smooth; a smooth D fits it with fewer units than ReLU
    d_batch: int = 1024  # real and generated points per D step, each
    d_lr: float = 5e-3
    fit_steps: int = 1500  # experiment 1: D from scratch
    refit_steps: int = 300  # experiment 2: each p_g's D starts from the previous one
    sequence: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # p_g = (1 - t) P_G + t p_r
    mc_samples: int = 1 << 18
    gan_steps: int = 3000
    probes: int = 60  # log-spaced evaluations of each GAN, so early steps are resolved too
    probe_samples: int = 8192


DEFAULT = Settings()
QUICK = Settings(d_batch=512, fit_steps=300, refit_steps=60, sequence=(0.0, 0.5, 1.0),
                 mc_samples=1 << 16, gan_steps=600, probes=12, probe_samples=2048)


# --- the closed forms ------------------------------------------------------------------------

def trapezoid_weights(x: np.ndarray) -> np.ndarray:
    """w with sum(w * f) = the trapezoid rule for int f dx on the grid x."""
    w = np.zeros_like(x, dtype=np.float64)
    dx = np.diff(x)
    w[:-1] += dx / 2
    w[1:] += dx / 2
    return w


def jsd(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """JSD(p || q) in nats of two densities tabulated on the grid x (trapezoid rule)."""
    w = trapezoid_weights(x)
    return discrete_jsd(p * w, q * w)


def optimal_discriminator(p_r: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """Proposition 1: D*(x) = p_r / (p_r + p_g). Where both vanish any D is optimal; 1/2 there."""
    total = p_r + p_g
    return np.divide(p_r, total, out=np.full_like(total, 0.5, dtype=np.float64), where=total > 0)


def game_value(jsd_value: float) -> float:
    """Theorem 1: C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_r || p_g)."""
    return -LOG4 + 2 * jsd_value


def comparison_region(p_r: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """Where D is compared with D*: elsewhere both laws put almost no samples, so D is not taught."""
    total = p_r + p_g
    return total > REGION_FRACTION * total.max()


def common_grid(*laws: Mixture1D) -> np.ndarray:
    """A fine grid over every law's range (5 stds past the outer means: tails below 1e-6)."""
    return np.linspace(min(law.edges[0] for law in laws), max(law.edges[-1] for law in laws), GRID_POINTS)


def interpolate(start: Mixture1D, end: Mixture1D, t: float) -> Mixture1D:
    """(1 - t) start + t end: again a Gaussian mixture, so its density stays exact."""
    return Mixture1D(means=start.means + end.means, stds=start.stds + end.stds,
                     weights=tuple((1 - t) * w for w in start.weights) + tuple(t * w for w in end.weights))


# --- a discriminator for a fixed G -----------------------------------------------------------

def make_discriminator(settings: Settings, seed: int) -> Discriminator:
    """A one-member discriminator for 1-D data, its initial weights drawn from ``seed`` only."""
    disc = Discriminator(1, 1, list(settings.d_hidden), settings.d_activation)
    initialise([seed], disc)
    return disc


def train_discriminator(disc: Discriminator, p_r: Mixture1D, p_g: Mixture1D, steps: int,
                        settings: Settings, rng: torch.Generator, bar: Any = None) -> None:
    """Eq. (2) with G fixed: minimise -V on fresh samples of both laws. The learning rate decays
    to zero on a cosine, so the last steps average out the sampling noise of the batches."""
    params = list(disc.parameters())
    opt = FlatAdam(flatten_parameters(disc), settings.d_lr)
    n = settings.d_batch
    for step in range(steps):
        logits = disc(torch.cat([p_r.sample(n, rng), p_g.sample(n, rng)])[None])[0]
        loss = bce_d_loss(logits[:n], logits[n:])
        opt.step(flat_grad(loss, params), LR_SCHEDULES["cosine"](step / steps))
        if bar is not None:
            bar.update()


@torch.no_grad()
def d_values(disc: Discriminator, x: np.ndarray) -> np.ndarray:
    """D(x) = sigmoid(logit) at each point of x, as float64."""
    return torch.sigmoid(disc(torch.as_tensor(x, dtype=torch.float32)[None, :, None])[0]).double().numpy()


def d_error(disc: Discriminator, p_r: Mixture1D, p_g: Mixture1D, x: np.ndarray) -> dict[str, float]:
    """Mean and max |D - D*| over the grid points of the comparison region (uniform in x)."""
    dens_r, dens_g = p_r.density(x), p_g.density(x)
    region = comparison_region(dens_r, dens_g)
    error = np.abs(d_values(disc, x) - optimal_discriminator(dens_r, dens_g))[region]
    return {"mean_abs_error": float(error.mean()), "max_abs_error": float(error.max())}


@torch.no_grad()
def estimate_value(disc: Discriminator, p_r: Mixture1D, p_g: Mixture1D, n: int,
                   rng: torch.Generator) -> dict[str, float]:
    """V(D, G) of eq. (1) by Monte Carlo, for the trained D and, on the same draws, for D*."""
    real, fake = p_r.sample(n, rng), p_g.sample(n, rng)
    x_r, x_g = real.double().numpy().ravel(), fake.double().numpy().ravel()
    d_star_r = optimal_discriminator(p_r.density(x_r), p_g.density(x_r))
    d_star_g = optimal_discriminator(p_r.density(x_g), p_g.density(x_g))
    return {"v_estimate": float(value_function(disc(real[None])[0], disc(fake[None])[0])),
            "v_optimal_mc": float(np.log(d_star_r).mean() + np.log1p(-d_star_g).mean())}


# --- experiments -----------------------------------------------------------------------------

def _law(law: Mixture1D) -> dict[str, list[float]]:
    return {"means": list(law.means), "stds": list(law.stds), "weights": list(law.weights)}


def _check(quantity: str, value: float, key: str, targets: dict[str, float]) -> dict[str, Any]:
    """One experiment's check: ``value`` against ``targets[key]``, the full run's target beside it."""
    return {"check": quantity, "value": value, "target": targets[key], "full_target": TARGETS[key],
            "met": value < targets[key]}


def optimal_d_experiment(settings: Settings, p_r: Mixture1D, figure: Path, progress: bool,
                         targets: dict[str, float] = TARGETS) -> tuple[dict[str, Any], Discriminator]:
    """Experiment 1: train D alone against the fixed P_G and compare it with D* (Proposition 1)."""
    x = common_grid(p_r, P_G)
    disc = make_discriminator(settings, SEED)
    untrained = d_values(disc, x)
    before = d_error(disc, p_r, P_G, x)
    with tqdm(total=settings.fit_steps, desc="1/3 optimal D", disable=not progress) as bar:
        train_discriminator(disc, p_r, P_G, settings.fit_steps, settings,
                            torch.Generator().manual_seed(SEED + 1), bar)
    after = d_error(disc, p_r, P_G, x)
    dens_r, dens_g = p_r.density(x), P_G.density(x)
    draw.plot_optimal_d(figure, x, dens_r, dens_g, optimal_discriminator(dens_r, dens_g),
                        comparison_region(dens_r, dens_g), untrained, d_values(disc, x),
                        after["mean_abs_error"])
    result = {
        "p_g": _law(P_G),
        "region": f"grid points where p_r + p_g > {REGION_FRACTION:g} * max(p_r + p_g), "
                  f"{GRID_POINTS} points evenly spaced over [{x[0]:.3f}, {x[-1]:.3f}]",
        "steps": settings.fit_steps,
        "batch": settings.d_batch,
        **after,
        "untrained_mean_abs_error": before["mean_abs_error"],
        **_check("mean |D - D*| in the region", after["mean_abs_error"], "d_mean_abs_error", targets),
    }
    return result, disc


def value_experiment(settings: Settings, p_r: Mixture1D, disc: Discriminator, figure: Path,
                     progress: bool, targets: dict[str, float] = TARGETS) -> dict[str, Any]:
    """Experiment 2: for p_g moving towards p_r, the trained D's V against Theorem 1's C(G)."""
    rng = torch.Generator().manual_seed(SEED + 2)
    x = common_grid(p_r, P_G)
    dens_r = p_r.density(x)
    rows = []
    total = settings.refit_steps * (len(settings.sequence) - 1)
    with tqdm(total=total, desc="2/3 value of the game", disable=not progress) as bar:
        for i, t in enumerate(settings.sequence):
            p_g = interpolate(P_G, p_r, t)
            if i > 0:  # t = 0 is experiment 1's p_g, whose D is trained already
                train_discriminator(disc, p_r, p_g, settings.refit_steps, settings, rng, bar)
            divergence = jsd(dens_r, p_g.density(x), x)
            values = estimate_value(disc, p_r, p_g, settings.mc_samples, rng)
            rows.append({"t": t, "jsd": divergence, "c_g": game_value(divergence), **values,
                         "gap": game_value(divergence) - values["v_estimate"],
                         "d_mean_abs_error": d_error(disc, p_r, p_g, x)["mean_abs_error"]})
    result: dict[str, Any] = {key: [row[key] for row in rows] for key in rows[0]}
    max_gap = max(abs(gap) for gap in result["gap"])
    result.update({"mc_samples": settings.mc_samples, "refit_steps": settings.refit_steps,
                   "max_abs_gap": max_gap, **_check("max |C(G) - V|", max_gap, "value_gap", targets)})
    fine_t = np.linspace(0, 1, 101)  # the figure draws C(G) along the whole path
    curve = [game_value(jsd(dens_r, interpolate(P_G, p_r, t).density(x), x)) for t in fine_t]
    dens_g = [interpolate(P_G, p_r, t).density(x) for t in result["t"]]
    draw.plot_value(figure, x, dens_r, dens_g, (fine_t, curve), result, -LOG4, result["target"])
    return result


def gan_config(loss: str, steps: int) -> Config:
    """Experiment 3's run: the default preset with GAN_OVERRIDES, the loss and the length."""
    return resolve_config(overrides=[GAN_OVERRIDES, {"name": f"theory-{loss}", "seed": SEED,
                                                     "train": {"loss": loss, "steps": steps}}])


class _Probe:
    """Fixed real points and noise, so that every look at a run compares the same draws.

    Tensors keep the trainer's member dimension first; these runs have one member.
    """

    def __init__(self, trainer: Trainer, n: int) -> None:
        rngs = [torch.Generator().manual_seed(SEED + 3)]
        self.trainer = trainer
        self.real = trainer.streams.real(n, rngs)
        self.noise = trainer.streams.noise(n, rngs)

    def generator_grad_norm(self, loss: str) -> float:
        """|grad_theta L_G| for ``loss`` at the current G and D: the push G actually gets."""
        t = self.trainer
        g_loss = OBJECTIVES.get(loss).g_loss(t.discriminator(t.generator(self.noise))).sum()
        return float(flat_grad(g_loss, list(t.generator.parameters())).norm())

    def __call__(self) -> tuple[dict[str, float], np.ndarray]:
        t = self.trainer
        row = {f"grad_{loss}": self.generator_grad_norm(loss) for loss in LOSSES}
        with torch.no_grad():
            fake = t.generator(self.noise)
            real_logits, fake_logits = t.discriminator(self.real), t.discriminator(fake)
            fake_np = fake.numpy().ravel()
            row.update({"d_real": float(torch.sigmoid(real_logits).mean()),
                        "d_fake": float(torch.sigmoid(fake_logits).mean()),
                        "v_estimate": float(value_function(real_logits, fake_logits)),
                        **t.task.metrics(fake_np)})
        return row, fake_np


def saturation(curves: dict[str, list[float]]) -> dict[str, float]:
    """Where D rejects the fakes most confidently: how much weaker eq. (3)'s gradient is there than
    the non-saturating one, both taken at the same G and D (per fake the ratio is (1 - D) / D)."""
    i = int(np.argmin(curves["d_fake"]))
    mm, ns = curves["grad_minimax"][i], curves["grad_nonsaturating"][i]
    return {"step": curves["step"][i], "d_fake": curves["d_fake"][i], "grad_minimax": mm,
            "grad_nonsaturating": ns, "ratio": ns / mm}


def training_experiment(settings: Settings, figures: tuple[Path, Path], progress: bool,
                        targets: dict[str, float] = TARGETS) -> dict[str, Any]:
    """Experiment 3: gankit's own loop on mixture1d, both generator losses, probed between steps."""
    steps = settings.gan_steps
    probe_at = np.unique(np.geomspace(1, steps, settings.probes).round().astype(int)).tolist()
    snapshot_at = {0} | {probe_at[round(i)] for i in np.linspace(0, len(probe_at) - 1, 6)[1:]}
    runs: dict[str, Any] = {}
    for loss in LOSSES:
        trainer = Trainer.from_config(gan_config(loss, steps))
        probe = _Probe(trainer, settings.probe_samples)
        grid = draw.plot_grid(trainer.task)
        curves: dict[str, list[float]] = {"step": []}
        snapshots = []
        with tqdm(total=steps, desc=f"3/3 GAN, {loss}", disable=not progress) as bar:
            for step in [0, *probe_at]:
                while trainer.step_count < step:
                    trainer.step()
                    bar.update()
                row, fake = probe()
                curves["step"].append(step)
                for key, value in row.items():
                    curves.setdefault(key, []).append(value)
                if step in snapshot_at:
                    snapshots.append({"step": step, "fake": fake, "d": d_values(trainer.discriminator, grid)})
        runs[loss] = {"final": {key: values[-1] for key, values in curves.items()},
                      "saturation": saturation(curves), "curves": curves, "snapshots": snapshots,
                      "task": trainer.task}
    draw.plot_training(figures[0], runs, -LOG4)
    draw.plot_training_densities(figures[1], runs)
    worst = max(abs(runs[loss]["final"][key] - 0.5) for loss in LOSSES for key in ("d_real", "d_fake"))
    return {
        "config_overrides": GAN_OVERRIDES,
        "steps": steps,
        "probe_samples": settings.probe_samples,
        "jsd_floor": (JSD_BINS + 1) / (8 * settings.probe_samples),  # a perfect sample's binned JSD
        **{loss: {key: runs[loss][key] for key in ("final", "saturation", "curves")} for loss in LOSSES},
        "max_abs_d_minus_half": worst,
        **_check("max |mean D - 1/2|, end of training", worst, "d_equilibrium", targets),
    }


@contextmanager
def _one_thread() -> Iterator[None]:
    """One torch thread: the networks are small (threads cost more than they give) and the
    numbers then do not depend on the machine's core count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_theory(out_dir: Path, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    """Run the three experiments, write their figures and ``theory.json`` into ``out_dir``.

    ``quick``: the ``QUICK`` sizes, checked against ``QUICK_TARGETS``, looser than the full run's
    ``TARGETS`` (each result holds both: ``target``, the one checked, and ``full_target``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings, targets = (QUICK, QUICK_TARGETS) if quick else (DEFAULT, TARGETS)
    p_r = Mixture1D()
    names = ["optimal_discriminator.png", "value_of_game.png", "training.png", "training_densities.png"]
    paths = [out_dir / name for name in names]
    with _one_thread():
        optimal, disc = optimal_d_experiment(settings, p_r, paths[0], progress, targets)
        value = value_experiment(settings, p_r, disc, paths[1], progress, targets)
        training = training_experiment(settings, (paths[2], paths[3]), progress, targets)
    result = {
        "reference": "Goodfellow et al. 2014, sec. 4.1: Proposition 1 and Theorem 1",
        "quick": quick,
        "settings": asdict(settings),
        "targets": targets,
        "full_targets": TARGETS,
        "p_r": _law(p_r),
        "optimal_discriminator": optimal,
        "value_of_game": value,
        "training": training,
        "targets_met": optimal["met"] and value["met"] and training["met"],
        "figures": names,
    }
    atomic_write_text(out_dir / "theory.json", json.dumps(result, indent=1) + "\n")
    return result

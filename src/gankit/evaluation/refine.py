"""Sampling guided by the discriminator: G proposes, D's density-ratio estimate decides.

A discriminator trained with the classification objectives (``minimax``, ``nonsaturating``)
approaches D*(x) = p_data(x) / (p_data(x) + p_G(x)), so its logit estimates the log density
ratio log p_data(x) / p_G(x). Two samplers use that estimate to correct G's samples:

- ``drs``, Discriminator Rejection Sampling (Azadi et al. 2019): a burn-in of G's samples
  estimates the largest logit D*_M; a proposal x with logit s is kept with probability
  sigmoid(F(x) - gamma), F(x) = s - D*_M - log(1 - exp(s - D*_M - epsilon)). With gamma = 0
  and epsilon -> 0 that is exp(s - D*_M) = ratio / max ratio: plain rejection sampling, exact
  for an optimal D. The paper shifts by gamma, a high percentile of F, to keep fewer and better
  samples; here gamma is the ``gamma_percentile`` quantile of F over the burn-in (fixed once, so
  that a result does not depend on how proposals are batched). D*_M is raised whenever a
  proposal exceeds it, as in the paper.
- ``mh``, Metropolis-Hastings GAN (Turner et al. 2019): an independent-proposal chain of
  ``chain`` steps (K) per returned sample, started from a real point (one D never trained on,
  as for calibration below); a proposal x' replaces the state x with probability
  min(1, (1/D(x) - 1) / (1/D(x') - 1)) = min(1, exp(s' - s)).
  A chain that never leaves its real start is run again from a generated point, so only
  generated points are returned.

Either can first *calibrate* D (``logistic``: Platt scaling; ``isotonic``): a map from logits to
probabilities fitted on held-out real and generated samples (equal numbers, so the calibrated
odds estimate the density ratio). The real ones are the task's ``calibration_rows``: fresh draws
of a task with a known law (ring, parabola, ...), the held-out rows or images of a finite data
set, never rows D was trained on (a D that has learned them by heart rates them above unseen real
data, which would skew the map). The MH-GAN paper calibrates because MH needs probabilities,
not rankings. Without calibration the samplers refuse a D trained with another objective (its
output is a critic value, not a log ratio).

A conditional run's D reads (x, c). Asked for c, every proposal carries it: the burn-in and the
chains are that condition's (each distinct request refined apart; MH starts from the real points
of nearest c). Calibration pits real points with their own c against generated ones with c drawn
as the data have them (p_G(c) = p_data(c): the odds of (x, c) are those of x given c).

A packed D (PacGAN, ``model.pack`` = m) judges m samples at once; a single sample is scored as
m copies of itself side by side (as the discriminator figure draws D). D never saw such rows in
training, so this is an approximation; calibration on held-out rows scored the same way
corrects its scale.

Every member is refined with its own G and D on noise and uniform draws shared by all members
(as :meth:`Evaluator.sample_members` shares its noise), so member i's result depends only on its
networks and the seed. Cost is counted per returned sample, as an implementation that works
one proposal at a time would spend it (burn-in and calibration included). A large sample is
refined in pieces (``gankit sample`` for tables: each piece with its own seed, burn-in and
calibration), and :func:`merge_costs` adds up their costs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from gankit.core.errors import GankitError
from gankit.evaluation.evaluator import Evaluator

if TYPE_CHECKING:
    from gankit.training.trainer import Trainer

METHODS = ("drs", "mh")
CALIBRATIONS = ("none", "logistic", "isotonic")
# Objectives whose D is a classifier trained with cross-entropy: its logit estimates log p_data / p_G.
RATIO_OBJECTIVES = ("minimax", "nonsaturating")
ROUND = 1024  # DRS proposals per round (at least n): a fixed size keeps members independent
MIN_BATCH = 256  # rows per generator pass at least (see ``propose`` in :func:`refine`)
MAX_PROPOSALS_PER_SAMPLE = 1000  # DRS gives up below an acceptance rate of 0.1%

Propose = Callable[[int], torch.Tensor]  # k -> [members, k, *shape], noise from the sampler's rng
Score = Callable[[torch.Tensor], torch.Tensor]  # [members, k, *shape] -> [members, k] log ratios


@dataclass(frozen=True)
class RefineSettings:
    """How to refine. ``gamma_percentile`` and ``burn_in`` are DRS's, ``chain`` is MH's."""

    method: str = "drs"
    # DRS: gamma is this quantile of F over the burn-in; None: gamma = 0, plain rejection
    # sampling with the estimated bound (exact when D's logit is the true log ratio).
    gamma_percentile: float | None = 0.5
    epsilon: float = 1e-6  # DRS: keeps log(1 - exp(.)) finite at the largest logit
    burn_in: int = 10_000  # DRS: proposals that estimate the largest logit D*_M
    chain: int = 40  # MH: proposals per returned sample, K (the paper used 640)
    calibrate: str = "none"  # none, logistic or isotonic
    calibration_samples: int = 5000  # held-out real and generated samples each, for calibrating

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise GankitError(f"refine method must be one of {', '.join(METHODS)}, got '{self.method}'")
        if self.calibrate not in CALIBRATIONS:
            raise GankitError(f"calibration must be one of {', '.join(CALIBRATIONS)}, "
                              f"got '{self.calibrate}'")
        if self.gamma_percentile is not None and not 0 <= self.gamma_percentile <= 1:
            raise GankitError(f"gamma (a percentile) must be in [0, 1], got {self.gamma_percentile}")
        for key in ("burn_in", "chain", "calibration_samples"):
            if getattr(self, key) < 1:
                raise GankitError(f"refine {key} must be at least 1, got {getattr(self, key)}")
        if not self.epsilon > 0:
            raise GankitError(f"refine epsilon must be positive, got {self.epsilon}")


@dataclass
class Refined:
    """Refined samples of every member and what they cost."""

    samples: torch.Tensor  # [members, n, *shape], followed by their conditions for a conditional task
    acceptance_rate: list[float]  # accepted proposals / proposals, per member
    g_passes: list[float]  # generator evaluations per returned sample, per member
    d_passes: list[float]  # discriminator evaluations per returned sample, per member
    settings: RefineSettings = field(default_factory=RefineSettings)

    def member_metrics(self, i: int) -> dict[str, float]:
        return {"acceptance_rate": self.acceptance_rate[i], "g_passes_per_sample": self.g_passes[i],
                "d_passes_per_sample": self.d_passes[i]}


# ---------------------------------------------------------------------------------------------
# The samplers, on any proposal and score: the networks enter only through ``propose``/``score``.

def drs_shift(scores: torch.Tensor, max_score: torch.Tensor, epsilon: float) -> torch.Tensor:
    """F(x) = s - D*_M - log(1 - exp(s - D*_M - epsilon)) for logits ``scores`` and the largest
    logit ``max_score`` (broadcast to them; never below them). log(1 - exp(t)) is computed as
    log(-expm1(t)), exact for t near 0."""
    t = scores - max_score
    return t - torch.log(-torch.expm1(t - epsilon))


def drs(propose: Propose, score: Score, n: int, rng: torch.Generator, settings: RefineSettings,
        extra_g: float = 0.0, extra_d: float = 0.0) -> Refined:
    """Discriminator Rejection Sampling: ``n`` accepted proposals per member.

    ``extra_g``/``extra_d`` are passes already spent per member (calibration), added to the cost.
    """
    burn_x = propose(settings.burn_in)
    burn = score(burn_x)
    members = burn.shape[0]
    max_score = burn.max(dim=1).values
    if settings.gamma_percentile is None:
        gamma = torch.zeros_like(max_score)
    else:
        gamma = torch.quantile(drs_shift(burn, max_score[:, None], settings.epsilon).double(),
                               settings.gamma_percentile, dim=1).to(burn.dtype)
    size = max(n, ROUND)
    kept: list[list[torch.Tensor]] = [[] for _ in range(members)]
    count = torch.zeros(members, dtype=torch.long)
    proposals_used = torch.zeros(members, dtype=torch.long)  # up to and including the n-th accepted
    # A member whose D gives no finite logit (a diverged member) accepts nothing: it is given
    # NaN points and NaN rates, as its plain samples would be, instead of stalling the others.
    dead = ~torch.isfinite(max_score).cpu()
    done = dead.clone()
    proposed = 0
    while not bool(done.all()):
        if proposed >= MAX_PROPOSALS_PER_SAMPLE * n:
            rate = float(count[~done].min()) / proposed
            raise GankitError(f"drs accepted {rate:.2%} of {proposed} proposals (below "
                              f"{1 / MAX_PROPOSALS_PER_SAMPLE:.1%}): D's largest logit dwarfs its "
                              "typical one; use a lower --gamma quantile")
        x = propose(size)
        s = score(x)
        u = torch.rand(size, generator=rng, device=rng.device)
        # D*_M is raised in proposal order: a proposal above it becomes the new maximum first.
        running = torch.maximum(torch.cummax(s, dim=1).values, max_score[:, None])
        shifted = drs_shift(s, running, settings.epsilon)
        accept = (u[None] < torch.sigmoid(shifted - gamma[:, None])).cpu()
        max_score = running[:, -1]
        for i in range(members):
            if done[i]:
                continue
            index = accept[i].nonzero().flatten()
            need = n - int(count[i])
            take = index[:need]
            kept[i].append(x[i, take.to(x.device)])
            count[i] += len(take)
            if int(count[i]) == n:
                done[i] = True
                proposals_used[i] = proposed + int(take[-1]) + 1
        proposed += size
    used = torch.where(dead, torch.nan, proposals_used.double())
    nan = torch.full((n, *burn_x.shape[2:]), torch.nan, dtype=burn_x.dtype, device=burn_x.device)
    samples = [nan if dead[i] else torch.cat(kept[i]) for i in range(members)]
    return Refined(
        samples=torch.stack(samples),
        acceptance_rate=(n / used).tolist(),
        g_passes=((settings.burn_in + used) / n + extra_g).tolist(),
        d_passes=((settings.burn_in + used) / n + extra_d).tolist(),
        settings=settings,
    )


def mh(propose: Propose, score: Score, start: torch.Tensor, rng: torch.Generator,
       settings: RefineSettings, extra_g: float = 0.0, extra_d: float = 0.0) -> Refined:
    """Independent Metropolis-Hastings: one chain of ``settings.chain`` proposals per point of
    ``start`` ([members, n, *shape], real points), each returning its last state."""
    members, n = start.shape[:2]
    k = settings.chain
    x, s = start, score(start)

    def run_chain(x: torch.Tensor, s: torch.Tensor, active: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        moved = torch.zeros_like(active)
        taken = torch.zeros(members, device=s.device)
        for _ in range(k):
            proposal = propose(n)
            s_new = score(proposal)
            u = torch.rand(n, generator=rng, device=rng.device)
            accept = (torch.log(u)[None] < s_new - s) & active
            x = torch.where(accept.view(*accept.shape, *[1] * (x.dim() - 2)), proposal, x)
            s = torch.where(accept, s_new, s)
            moved |= accept
            taken += accept.sum(dim=1)
        return x, s, moved, taken

    everyone = torch.ones(members, n, dtype=torch.bool, device=s.device)
    x, s, moved, accepted = run_chain(x, s, everyone)
    stuck = ~moved  # chains still at their real start: run again from a generated point
    restarts = stuck.sum(dim=1).double().cpu()
    if bool(stuck.any()):
        fresh = propose(n)
        fresh_s = score(fresh)
        x2, _, _, taken = run_chain(fresh, fresh_s, stuck)
        x = torch.where(stuck.view(*stuck.shape, *[1] * (x.dim() - 2)), x2, x)
        accepted = accepted + taken
    proposals = (n * k + restarts * k).double()
    g = (n * k + restarts * (k + 1)) / n
    d = (n * (k + 1) + restarts * (k + 1)) / n
    return Refined(
        samples=x,
        acceptance_rate=(accepted.double().cpu() / proposals).tolist(),
        g_passes=(g + extra_g).tolist(),
        d_passes=(d + extra_d).tolist(),
        settings=settings,
    )


# ---------------------------------------------------------------------------------------------
# Calibration: logits -> calibrated log odds, one map per member.

def fit_calibration(real_scores: np.ndarray, fake_scores: np.ndarray, method: str
                    ) -> Callable[[np.ndarray], np.ndarray]:
    """A monotone map from raw logits to calibrated log odds of "real", fitted on held-out real
    and generated logits (1-D arrays of equal length); NaN odds for a D that is not finite."""
    if not (np.isfinite(real_scores).all() and np.isfinite(fake_scores).all()):
        return lambda values: np.full(np.shape(values), np.nan)  # a diverged member: nothing to fit
    s = np.concatenate([real_scores, fake_scores]).astype(np.float64)
    y = np.concatenate([np.ones(len(real_scores)), np.zeros(len(fake_scores))])
    if method == "logistic":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1e6).fit(s[:, None], y)
        a, b = float(model.coef_[0, 0]), float(model.intercept_[0])
        return lambda values: a * np.asarray(values, dtype=np.float64) + b
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        floor = 0.5 / len(s)  # no probability of exactly 0 or 1: the log odds stay finite
        model = IsotonicRegression(y_min=floor, y_max=1 - floor, out_of_bounds="clip").fit(s, y)

        def odds(values: np.ndarray) -> np.ndarray:
            p = model.predict(np.asarray(values, dtype=np.float64))
            return np.log(p) - np.log1p(-p)

        return odds
    raise GankitError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got '{method}'")


# ---------------------------------------------------------------------------------------------
# A trainer's networks as proposal and score.

def discriminator_scores(trainer: Trainer, x: torch.Tensor) -> torch.Tensor:
    """D's logit of each single sample, ``[members, k]``; a packed D gets ``pack`` copies of it."""
    p = trainer.config.model.pack
    if p > 1:
        x = x.repeat(1, 1, p, *[1] * (x.dim() - 3))
    return trainer.discriminator(x)


def refine(trainer: Trainer, n: int, settings: RefineSettings | str, seed: int | None = None,
           condition: torch.Tensor | None = None) -> Refined:
    """``n`` refined samples of every member of ``trainer``, reproducible with ``seed``;
    ``condition`` (``[n, condition_width]``, e.g. from ``Task.asked``): what each point is asked
    for, None: conditions drawn as the data have them."""
    if isinstance(settings, str):
        settings = RefineSettings(method=settings)
    loss = trainer.config.train.loss
    if settings.calibrate == "none" and loss not in RATIO_OBJECTIVES:
        raise GankitError(f"refinement reads D's logit as log p_data/p_G, which only the "
                          f"{' and '.join(RATIO_OBJECTIVES)} losses train it to estimate; this run "
                          f"used '{loss}': calibrate D first (--calibrate logistic or isotonic)")
    device, task, members, generator = trainer.device, trainer.task, trainer.members, trainer.eval_generator
    rng = torch.Generator(device)
    rng.manual_seed(seed) if seed is not None else rng.seed()

    def propose(k: int, c: torch.Tensor | None = None) -> torch.Tensor:
        # At least MIN_BATCH rows per pass: a generator with batch norm normalises by the
        # statistics of its batch, which a handful of rows would make noisy.
        rows = max(k, MIN_BATCH)
        z = trainer.streams.noise_of(rows, rng, asked=c)  # a conditional task's conditions follow the noise
        return trainer.generate(z.expand(members, *z.shape), generator)[:, :k]

    def raw(x: torch.Tensor) -> torch.Tensor:
        return discriminator_scores(trainer, x)

    def real(k: int, c: torch.Tensor | None = None) -> torch.Tensor:  # never training rows: see above
        rows = k if c is None else max(k, settings.calibration_samples)
        points = task.calibration_points(rows, rng)
        if c is not None:  # MH's starts asked for c: the points attaching c changes least, in turn
            asked = task.attach_conditions(task.data_part(points), c.expand(rows, -1))
            gap = (asked - points).abs().flatten(1).sum(1)
            near = (gap <= gap.min()).nonzero().flatten()
            points = points[near[torch.arange(k, device=near.device) % len(near)]]
        return points.expand(members, *points.shape)

    with Evaluator(trainer).evaluating():
        score: Score = raw
        extra_g = extra_d = 0.0
        if settings.calibrate != "none":
            m = settings.calibration_samples
            real_s = raw(real(m)).cpu().numpy()
            fake_s = raw(propose(m)).cpu().numpy()
            maps = [fit_calibration(real_s[i], fake_s[i], settings.calibrate) for i in range(members)]

            def score(x: torch.Tensor) -> torch.Tensor:
                s = raw(x).cpu().numpy()
                calibrated = np.stack([maps[i](s[i]) for i in range(members)])
                return torch.as_tensor(calibrated, dtype=torch.float32, device=device)

            extra_g, extra_d = m / n, 2 * m / n

        def sample(k: int, c: torch.Tensor | None, extra: tuple[float, float]) -> Refined:
            asked = functools.partial(propose, c=c)
            if settings.method == "drs":
                return drs(asked, score, k, rng, settings, *extra)
            return mh(asked, score, real(k, c), rng, settings, *extra)

        if condition is None:
            return sample(n, None, (extra_g, extra_d))
        wanted, which = torch.unique(condition.to(device), dim=0, return_inverse=True)
        parts = [(which == j).nonzero().flatten() for j in range(len(wanted))]
        return _gathered([(index, sample(len(index), c, (0.0, 0.0))) for index, c in zip(parts, wanted)],
                         n, settings, extra_g, extra_d)


def _gathered(parts: list[tuple[torch.Tensor, Refined]], n: int, settings: RefineSettings,
              extra_g: float, extra_d: float) -> Refined:
    """Points refined apart, one request each (``index``: their places among the ``n``), put back,
    with each member's cost over them all (:func:`merge_costs`) plus the calibration's."""
    first = parts[0][1].samples
    samples = first.new_empty((first.shape[0], n, *first.shape[2:]))
    for index, part in parts:
        samples[:, index] = part.samples
    costs = [merge_costs([(len(index), part.member_metrics(i)) for index, part in parts], settings.method)
             for i in range(first.shape[0])]
    return Refined(samples, [c["acceptance_rate"] for c in costs],
                   [c["g_passes_per_sample"] + extra_g for c in costs],
                   [c["d_passes_per_sample"] + extra_d for c in costs], settings)


def refinement_metrics(refined: Refined) -> list[dict[str, Any]]:
    """Each member's acceptance rate and cost, as metrics beside the task's own."""
    return [refined.member_metrics(i) for i in range(len(refined.acceptance_rate))]


def merge_costs(parts: list[tuple[int, dict[str, float]]], method: str) -> dict[str, float]:
    """One member's cost over pieces refined apart, ``(rows, member_metrics)`` each: passes per
    sample averaged over the rows; DRS's acceptance rate as all rows over all proposals (a piece
    of n rows accepted at rate a made n / a), MH's averaged over the rows (a chain makes K
    proposals per row, plus those of restarted chains, which the rate alone does not tell)."""
    if len(parts) == 1:
        return dict(parts[0][1])
    rows = sum(n for n, _ in parts)
    cost = {key: sum(n * c[key] for n, c in parts) / rows
            for key in ("acceptance_rate", "g_passes_per_sample", "d_passes_per_sample")}
    if method == "drs":
        cost["acceptance_rate"] = rows / sum(n / c["acceptance_rate"] for n, c in parts)
    return cost


def describe(settings: RefineSettings) -> str:
    """One line naming the sampler and its settings, for the CLI's report."""
    if settings.method == "drs":
        gamma = ("0 (plain rejection sampling)" if settings.gamma_percentile is None
                 else f"the {settings.gamma_percentile:g} quantile of F")
        text = f"drs (gamma = {gamma} over a burn-in of {settings.burn_in}, epsilon {settings.epsilon:g})"
    else:
        text = f"mh (chain length K = {settings.chain}, started from a real point)"
    if settings.calibrate != "none":
        text += f", D calibrated ({settings.calibrate}) on {settings.calibration_samples} + " \
                f"{settings.calibration_samples} held-out samples"
    return text


__all__ = ["CALIBRATIONS", "METHODS", "RefineSettings", "Refined", "describe", "discriminator_scores",
           "drs", "drs_shift", "fit_calibration", "merge_costs", "mh", "refine", "refinement_metrics"]

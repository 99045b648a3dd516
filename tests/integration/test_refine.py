import json

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.config import Config, DataConfig, ModelConfig, TrainConfig
from gankit.config.resolve import validate
from gankit.core.errors import GankitError
from gankit.evaluation.refine import (
    RefineSettings,
    discriminator_scores,
    drs,
    drs_shift,
    fit_calibration,
    mh,
    refine,
)
from gankit.tasks.mixture1d import Mixture1D
from gankit.training.trainer import Trainer

TARGET = Mixture1D()  # 0.4 N(1, 0.4^2) + 0.6 N(3, 0.6^2)
MU, SD = 2.0, 1.5  # the proposal N(2, 1.5^2): wider than the target, so the ratio is bounded


def _exact(seed):
    """A proposal with a known density and the exact log ratio log p/q: an optimal D's logit."""
    rng = torch.Generator().manual_seed(seed)

    def propose(k):
        return (MU + SD * torch.randn(k, generator=rng)).view(1, k, 1)

    def score(x):
        v = x[..., 0].numpy()
        log_q = -0.5 * ((v - MU) / SD) ** 2 - np.log(SD * np.sqrt(2 * np.pi))
        return torch.as_tensor(np.log(TARGET.density(v)) - log_q, dtype=torch.float32)

    return rng, propose, score


def _w1(samples):
    return TARGET.wasserstein1(samples[0].numpy())


def test_the_proposal_is_far_from_the_target():
    _, propose, _ = _exact(0)
    assert _w1(propose(4000)) > 0.3  # the baseline the samplers must improve on


def test_drs_with_the_exact_ratio_samples_the_target():
    rng, propose, score = _exact(0)
    out = drs(propose, score, 4000, rng, RefineSettings(gamma_percentile=None))
    assert out.samples.shape == (1, 4000, 1)  # exactly as many as asked
    assert _w1(out.samples) < 0.05  # from 0.39: the sampling noise of 4000 points is ~0.02
    # rejection sampling accepts 1 / max ratio of its proposals; max p/q is about 2 here
    assert 0.3 < out.acceptance_rate[0] <= 1
    assert out.g_passes[0] == pytest.approx(10_000 / 4000 + 1 / out.acceptance_rate[0])


def test_mh_with_the_exact_ratio_samples_the_target():
    rng, propose, score = _exact(1)
    start = TARGET.sample(3000, rng).view(1, 3000, 1)
    out = mh(propose, score, start, rng, RefineSettings(method="mh", chain=20))
    assert out.samples.shape == (1, 3000, 1)
    assert _w1(out.samples) < 0.05
    assert 0 < out.acceptance_rate[0] <= 1
    assert out.g_passes[0] >= 20 and out.d_passes[0] >= 21


def test_mh_returns_only_generated_points_even_when_nothing_is_accepted():
    rng = torch.Generator().manual_seed(0)
    start = torch.full((1, 50, 1), 7.0)  # a "real" point D rates far above any proposal

    def score(x):
        return torch.where(x[..., 0] == 7.0, 100.0, 0.0)

    out = mh(lambda k: torch.randn(1, k, 1, generator=rng), score, start, rng,
             RefineSettings(method="mh", chain=5))
    assert not (out.samples == 7.0).any()
    assert out.g_passes[0] == pytest.approx(5 + 6)  # the first chain, then 1 + 5 from a fake start


def test_a_high_gamma_keeps_fewer_samples():
    rates = []
    for q in (None, 0.95):
        rng, propose, score = _exact(2)
        rates.append(drs(propose, score, 1000, rng, RefineSettings(gamma_percentile=q)).acceptance_rate[0])
    assert rates[1] < rates[0]


def test_the_shifted_acceptance_is_the_ratio_to_the_maximum():
    # sigmoid(F) = exp(s - D*_M) when epsilon -> 0: F undoes the logistic of the paper's eq.
    s = torch.tensor([[-3.0, -1.0, 0.5, 1.99]])
    m = torch.tensor([[2.0]])
    torch.testing.assert_close(torch.sigmoid(drs_shift(s, m, 1e-9)), torch.exp(s - m), rtol=1e-5, atol=1e-6)


def test_samplers_are_reproducible_with_a_seed():
    for method in ("drs", "mh"):
        results = []
        for _ in range(2):
            rng, propose, score = _exact(5)
            settings = RefineSettings(method=method, chain=4, burn_in=500)
            if method == "drs":
                results.append(drs(propose, score, 300, rng, settings))
            else:
                results.append(mh(propose, score, TARGET.sample(300, rng).view(1, 300, 1), rng, settings))
        assert torch.equal(results[0].samples, results[1].samples)
        assert results[0].acceptance_rate == results[1].acceptance_rate


@pytest.mark.parametrize("method", ["logistic", "isotonic"])
def test_calibration_is_monotone_and_finds_known_log_odds(method):
    rng = np.random.default_rng(0)
    # real logits ~ N(1, 1), fake ~ N(-1, 1), equal numbers: the exact log odds of "real" is 2 s
    real, fake = rng.normal(1, 1, 20_000), rng.normal(-1, 1, 20_000)
    odds = fit_calibration(real, fake, method)
    grid = np.linspace(-2, 2, 41)
    values = odds(grid)
    assert np.all(np.isfinite(odds(np.array([-50.0, 50.0]))))
    assert np.all(np.diff(values) >= 0)
    tolerance = 0.05 if method == "logistic" else 0.5
    assert np.max(np.abs(values - 2 * grid)) < tolerance


def _trainer(**model):
    config = Config(seeds=2, data=DataConfig("ring"), model=ModelConfig(noise_dim=2, g_hidden=[16],
                    d_hidden=[16], **model), train=TrainConfig(loss="nonsaturating", batch_size=12))
    return Trainer.from_config(validate(config))


def test_every_member_is_refined_as_a_single_run_would_be():
    pair = _trainer()
    single = Trainer.from_config(validate(Config(seed=1, data=DataConfig("ring"), model=pair.config.model,
                                                 train=pair.config.train)))
    for method in ("drs", "mh"):
        settings = RefineSettings(method=method, burn_in=200, chain=3)
        both, alone = refine(pair, 50, settings, seed=3), refine(single, 50, settings, seed=3)
        torch.testing.assert_close(both.samples[1], alone.samples[0])
        assert both.acceptance_rate[1] == pytest.approx(alone.acceptance_rate[0])


def test_a_packed_discriminator_scores_a_sample_as_copies_of_it():
    trainer = _trainer(pack=3)
    x = torch.randn(2, 5, 2)
    expected = trainer.discriminator(torch.cat([x, x, x], dim=-1))
    torch.testing.assert_close(discriminator_scores(trainer, x), expected)
    out = refine(trainer, 20, RefineSettings(method="mh", chain=2), seed=0)
    assert out.samples.shape == (2, 20, 2)


def test_a_diverged_member_gets_nan_and_does_not_stall_the_others():
    trainer = _trainer()
    with torch.no_grad():
        for p in trainer.discriminator.parameters():
            p[1].fill_(float("nan"))
    for settings in (RefineSettings(burn_in=200), RefineSettings(method="mh", chain=3, calibrate="isotonic",
                                                                 calibration_samples=100)):
        out = refine(trainer, 30, settings, seed=0)
        assert torch.isfinite(out.samples[0]).all() and 0 < out.acceptance_rate[0] <= 1
        if settings.method == "drs":
            assert torch.isnan(out.samples[1]).all() and np.isnan(out.acceptance_rate[1])


def test_a_critic_is_refused_unless_calibrated():
    trainer = _trainer()
    trainer.config.train.loss = "hinge"
    with pytest.raises(GankitError, match="--calibrate logistic or isotonic"):
        refine(trainer, 10, "drs", seed=0)
    settings = RefineSettings(calibrate="logistic", calibration_samples=200, burn_in=100)
    assert refine(trainer, 10, settings, seed=0).samples.shape == (2, 10, 2)


@pytest.mark.parametrize("name", ["parabola", "mixture1d", "ring", "grid", "digits"])
def test_calibration_draws_what_it_drew_before_on_the_built_in_tasks(name):
    """A known law's calibration rows are fresh samples, and the digits' the held-out images
    sample() draws: the same draws from the same generator, so refinement's numbers stay."""
    from gankit.tasks import make_task

    task = make_task(name)
    a = task.calibration_rows(300, torch.Generator().manual_seed(4))
    b = task.sample(300, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


def test_refinement_of_a_ring_gives_the_numbers_it_gave():
    """Pinned: refinement with calibration and MH's real starts on a ring, as before
    Task.calibration_rows existed (a change of draws would move these)."""
    trainer = _trainer()
    drs_out = refine(trainer, 40, RefineSettings(burn_in=200, calibrate="logistic", calibration_samples=300),
                     seed=5)
    mh_out = refine(trainer, 40, RefineSettings(method="mh", chain=3, calibrate="isotonic",
                                                calibration_samples=300), seed=5)
    assert drs_out.acceptance_rate == pytest.approx([0.49382716049382713, 0.45977011494252873])
    assert mh_out.acceptance_rate == pytest.approx([0.5714285714285714, 0.7017543859649122])
    assert mh_out.g_passes == pytest.approx([13.5, 12.2])


def test_settings_are_checked():
    with pytest.raises(GankitError, match="refine method must be one of drs, mh"):
        RefineSettings(method="ddls")
    with pytest.raises(GankitError, match=r"gamma \(a percentile\) must be in \[0, 1\]"):
        RefineSettings(gamma_percentile=95)


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("refine") / "ring"
    assert main(["train", "--data", "ring", "--steps", "40", "--quiet", "--no-figures", "--out", str(out),
                 "--set", "log.eval_every=20"]) == 0
    return out


def test_cli_sample_and_eval_refine_end_to_end(ring_run, tmp_path, capsys):
    out = tmp_path / "s.npy"
    assert main(["sample", str(ring_run), "--n", "64", "--seed", "1", "--out", str(out), "--refine", "drs",
                 "--gamma", "exact"]) == 0
    assert np.load(out).shape == (64, 2)
    assert "acceptance rate" in capsys.readouterr().out
    assert main(["eval", str(ring_run), "--n", "200", "--task-only", "--json", "--refine", "mh",
                 "--chain", "3", "--calibrate", "isotonic"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {"modes_covered", "hq_fraction", "reverse_kl"} <= set(printed)
    assert 0 < printed["acceptance_rate"] <= 1
    assert printed["g_passes_per_sample"] > 3


def test_cli_refuses_a_bad_gamma_in_one_line(ring_run, tmp_path, capsys):
    out = tmp_path / "s.npy"
    assert main(["sample", str(ring_run), "--out", str(out), "--refine", "drs", "--gamma", "high"]) == 2
    err = capsys.readouterr().err
    assert "--gamma must be a quantile in [0, 1] or 'exact'" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_refinement_raises_the_share_of_high_quality_points_on_a_trained_ring(tmp_path):
    from gankit.api.training import train

    run = train(preset="ring", steps=3000, out=tmp_path / "ring", figures=False)
    plain = run.evaluate(2500)["hq_fraction"]
    for settings in (RefineSettings(method="drs"), RefineSettings(method="mh", calibrate="isotonic")):
        refined = run.evaluate(2500, refine=settings, seed=0)
        assert refined["hq_fraction"] > plain + 0.05, (settings, plain, refined["hq_fraction"])
        assert refined["modes_covered"] == 8

import pytest
import torch

from gankit.config import resolve_config
from gankit.training import Trainer


def _config(preset="seed", **train):
    overrides = [{"train": train}] if train else []
    return resolve_config(preset, overrides=overrides + [{"log": {"eval_samples": 4096}}])


def test_step_follows_algorithm_1_with_a_fresh_pass_through_the_updated_d():
    """gankit's step against a plain re-implementation with torch.optim.Adam."""
    config = _config(d_steps=2, lr_g=1e-3, lr_d=1e-3)
    trainer = Trainer(config)

    def plain(stacked, squeeze=False):
        first, last = stacked[0], stacked[2]
        net = torch.nn.Sequential(torch.nn.Linear(first.in_features, first.out_features), torch.nn.ReLU(),
                                  torch.nn.Linear(last.in_features, last.out_features))
        with torch.no_grad():
            for layer, source in ((net[0], first), (net[2], last)):
                layer.weight.copy_(source.weight[0])
                layer.bias.copy_(source.bias[0])
        return net

    g, d = plain(trainer.generator), plain(trainer.discriminator)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, foreach=False)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, foreach=False)
    data_rng = torch.Generator().manual_seed(trainer.data_rngs[0].initial_seed())
    noise_rng = torch.Generator().manual_seed(trainer.noise_rngs[0].initial_seed())
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for _ in range(5):
        trainer.step()
        for _ in range(2):  # k = 2 discriminator steps, each on fresh batches
            real = trainer.task.sample(64, data_rng)
            fake = g(torch.randn(64, 5, generator=noise_rng)).detach()
            loss = bce(d(real), torch.ones(64, 1)) + bce(d(fake), torch.zeros(64, 1))
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
        # then G, through the *updated* D, on fresh noise; minimax: minimise E log(1 - D(G(z)))
        fake_logits = d(g(torch.randn(64, 5, generator=noise_rng)))
        g_loss = torch.log1p(-torch.sigmoid(fake_logits)).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    for ours, ref in ((trainer.generator, g), (trainer.discriminator, d)):
        for p, q in zip(ours.parameters(), ref.parameters()):
            torch.testing.assert_close(p[0], q, rtol=1e-5, atol=1e-6)


def test_same_config_and_seed_give_the_same_numbers():
    runs = []
    for _ in range(2):
        trainer = Trainer(_config())
        for _ in range(30):
            trainer.step()
        runs.append((trainer.g_flat.clone(), trainer.d_flat.clone(), trainer.evaluate()))
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


def test_another_seed_gives_other_numbers():
    a, b = Trainer(_config()), resolve_config("seed", overrides=[{"seed": 1}])
    assert not torch.equal(a.g_flat, Trainer(b).g_flat)


def test_evaluation_does_not_disturb_training_randomness():
    plain, evaluated = Trainer(_config()), Trainer(_config())
    for _ in range(10):
        plain.step()
        evaluated.step()
        evaluated.evaluate(256)
    assert torch.equal(plain.g_flat, evaluated.g_flat)


def test_short_default_run_improves_a_w1_by_a_wide_margin():
    trainer = Trainer(_config("default"))
    before = trainer.evaluate()
    for _ in range(500):
        trainer.step()
    after = trainer.evaluate()
    assert before["a_w1"] > 1.0
    assert after["a_w1"] < 0.3 * before["a_w1"], (before, after)
    assert after["curve_rmse_median"] < 0.5 * before["curve_rmse_median"]


def test_ema_generator_is_used_for_evaluation_and_lags_the_raw_one():
    trainer = Trainer(_config("default", ema=0.9))
    for _ in range(20):
        trainer.step()
    assert trainer.eval_generator is trainer.ema_generator
    assert not torch.equal(trainer.ema.average, trainer.g_flat)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda():
    trainer = Trainer(resolve_config("seed", overrides=[{"device": "cuda"}]))
    for _ in range(5):
        trainer.step()
    assert trainer.g_flat.is_cuda and "a_w1" in trainer.evaluate(512)


def _population(seeds):
    return resolve_config("seed", overrides=[{"seeds": seeds, "seed": 10},
                                             {"train": {"lr_g": 1e-3, "lr_d": 1e-3}},
                                             {"log": {"eval_samples": 1024}}])


def test_member_i_follows_the_single_run_with_seed_s_plus_i():
    population = Trainer(_population(4))
    for _ in range(20):
        population.step()
    for i in range(4):
        single = Trainer(resolve_config("seed", overrides=[
            {"seed": 10 + i}, {"train": {"lr_g": 1e-3, "lr_d": 1e-3}}]))
        for _ in range(20):
            single.step()
        for ours, ref in ((population.generator, single.generator),
                          (population.discriminator, single.discriminator)):
            for p, q in zip(ours.parameters(), ref.parameters()):
                torch.testing.assert_close(p[i], q[0], rtol=1e-5, atol=1e-6)


def test_members_do_not_interact():
    plain, changed = Trainer(_population(3)), Trainer(_population(3))
    changed.data_rngs[1].manual_seed(999)  # member 1 sees other data
    changed.noise_rngs[1].manual_seed(998)
    for _ in range(20):
        plain.step()
        changed.step()
    for a, b in zip(plain.generator.parameters(), changed.generator.parameters()):
        assert torch.equal(a[0], b[0]) and torch.equal(a[2], b[2])
        assert not torch.equal(a[1], b[1])


def test_population_metrics_report_median_quartiles_and_members():
    trainer = Trainer(_population(3))
    metrics = trainer.evaluate()
    assert len(metrics["members"]["a_w1"]) == 3
    order = [metrics[f"a_w1{suffix}"] for suffix in ("_min", "_q1", "", "_q3", "_max")]
    assert order == sorted(order)
    assert metrics["a_w1"] == pytest.approx(sorted(metrics["members"]["a_w1"])[1])


def test_wasserstein_clips_the_critic_weights():
    trainer = Trainer(_config("seed", loss="wasserstein", weight_clip=0.05))
    trainer.step()
    assert trainer.d_flat.abs().max() <= 0.05


@pytest.mark.parametrize("extra", [
    {"train": {"loss": "wasserstein_gp"}},
    {"train": {"r1": 1.0, "r2": 1.0}},
    {"model": {"spectral_norm": True, "pack": 4}, "train": {"loss": "hinge"}},
    {"train": {"loss": "least_squares", "lr_schedule": "cosine"}},
])
def test_every_stabiliser_trains_and_improves(extra):
    config = resolve_config("default", overrides=[extra, {"log": {"eval_samples": 2048}},
                                                  {"train": {"steps": 400}}])
    trainer = Trainer(config)
    before = trainer.evaluate()["a_w1"]
    for _ in range(400):
        trainer.step()
    assert trainer.evaluate()["a_w1"] < 0.6 * before


def test_a_zero_learning_rate_scale_leaves_weights_unchanged():
    trainer = Trainer(_config("seed", lr_schedule="linear", steps=1))
    before = trainer.g_flat.clone()
    trainer.step()  # step 0 of 1: scale 1
    assert not torch.equal(before, trainer.g_flat)
    from gankit.training import LR_SCHEDULES

    assert LR_SCHEDULES["linear"](1.0) == 0 and LR_SCHEDULES["cosine"](1.0) == pytest.approx(0)
    assert LR_SCHEDULES["cosine"](0.5) == pytest.approx(0.5)


def test_packing_feeds_d_packed_rows():
    trainer = Trainer(resolve_config("seed", overrides=[{"model": {"pack": 4}}]))
    stats = trainer.step()
    assert trainer.discriminator[0].in_features == 15 * 4
    assert stats.real_logits.shape == (1, 16)

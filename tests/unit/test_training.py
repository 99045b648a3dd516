import pytest
import torch

from gankit.config.resolve import resolve_config
from gankit.evaluation import Evaluator
from gankit.training.trainer import Trainer


def _config(preset="seed", **train):
    overrides = [{"train": train}] if train else []
    return resolve_config(preset, overrides=overrides + [{"log": {"eval_samples": 4096}}])


def test_step_follows_algorithm_1_with_a_fresh_pass_through_the_updated_d():
    """gankit's step against a plain re-implementation with torch.optim.Adam."""
    config = _config(d_steps=2, lr_g=1e-3, lr_d=1e-3)
    trainer = Trainer.from_config(config)

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
    data_rng = torch.Generator().manual_seed(trainer.streams.samplers[0].generator.initial_seed())
    noise_rng = torch.Generator().manual_seed(trainer.streams.noise_rngs[0].initial_seed())
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
        trainer = Trainer.from_config(_config())
        for _ in range(30):
            trainer.step()
        runs.append((trainer.g_flat.clone(), trainer.d_flat.clone(), Evaluator(trainer).evaluate()))
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


def test_another_seed_gives_other_numbers():
    a, b = Trainer.from_config(_config()), resolve_config("seed", overrides=[{"seed": 1}])
    assert not torch.equal(a.g_flat, Trainer.from_config(b).g_flat)


def test_evaluation_does_not_disturb_training_randomness():
    plain, evaluated = Trainer.from_config(_config()), Trainer.from_config(_config())
    for _ in range(10):
        plain.step()
        evaluated.step()
        Evaluator(evaluated).evaluate(256)
    assert torch.equal(plain.g_flat, evaluated.g_flat)




def test_ema_generator_is_used_for_evaluation_and_lags_the_raw_one():
    decay = 0.9
    trainer = Trainer.from_config(_config("default", ema=decay))
    start = trainer.g_flat.clone()
    expected = start.clone()
    for _ in range(20):
        trainer.step()
        expected.mul_(decay).add_(trainer.g_flat, alpha=1 - decay)
    assert trainer.eval_generator is trainer.ema_generator
    torch.testing.assert_close(trainer.ema.average, expected)
    # It lags: the average has moved from the start, but less far than the raw weights.
    moved_ema, moved_raw = (trainer.ema.average - start).norm(), (trainer.g_flat - start).norm()
    assert 0 < moved_ema < 0.8 * moved_raw


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda():
    trainer = Trainer.from_config(resolve_config("seed", overrides=[{"device": "cuda"}]))
    for _ in range(5):
        trainer.step()
    assert trainer.g_flat.is_cuda and "a_w1" in Evaluator(trainer).evaluate(512)


def _population(seeds, path="auto"):
    return resolve_config("seed", overrides=[{"seeds": seeds, "seed": 10, "model": {"population": path}},
                                             {"train": {"lr_g": 1e-3, "lr_d": 1e-3}},
                                             {"log": {"eval_samples": 1024}}])


@pytest.mark.parametrize("path", ["stacked", "vmap"])
def test_member_i_follows_the_single_run_with_seed_s_plus_i(path):
    population = Trainer.from_config(_population(4, path))
    for _ in range(20):
        population.step()
    for i in range(4):
        single = Trainer.from_config(resolve_config("seed", overrides=[
            {"seed": 10 + i}, {"train": {"lr_g": 1e-3, "lr_d": 1e-3}}]))
        for _ in range(20):
            single.step()
        for ours, ref in ((population.generator, single.generator),
                          (population.discriminator, single.discriminator)):
            for p, q in zip(ours.parameters(), ref.parameters()):
                torch.testing.assert_close(p[i], q[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("path", ["stacked", "vmap"])
def test_members_do_not_interact(path):
    plain, changed = Trainer.from_config(_population(3, path)), Trainer.from_config(_population(3, path))
    changed.streams.samplers[1].generator.manual_seed(999)  # member 1 sees other data
    changed.streams.noise_rngs[1].manual_seed(998)
    for _ in range(20):
        plain.step()
        changed.step()
    for a, b in zip(plain.generator.parameters(), changed.generator.parameters()):
        assert torch.equal(a[0], b[0]) and torch.equal(a[2], b[2])
        assert not torch.equal(a[1], b[1])


def test_population_metrics_report_median_quartiles_and_members():
    trainer = Trainer.from_config(_population(3))
    record = Evaluator(trainer).evaluate_members()
    values = sorted(record.values["a_w1"])
    spread = record.spread("a_w1")
    assert (spread.min, spread.median, spread.max) == (values[0], values[1], values[2])
    assert spread.q1 == pytest.approx((values[0] + values[1]) / 2)
    row = Evaluator(trainer).evaluate()
    assert row["a_w1"] == values[1] and sorted(row["members"]["a_w1"]) == values


def test_wasserstein_clips_the_critic_weights():
    trainer = Trainer.from_config(_config("seed", loss="wasserstein", weight_clip=0.05))
    trainer.step()
    assert trainer.d_flat.abs().max() <= 0.05




def test_a_zero_learning_rate_scale_leaves_weights_unchanged():
    trainer = Trainer.from_config(_config("seed", lr_schedule="linear", steps=10))
    trainer.step()  # progress 0: scale 1, the weights move
    before_g, before_d = trainer.g_flat.clone(), trainer.d_flat.clone()
    trainer.step(progress=1.0)  # the end of a linear schedule: scale 0
    assert torch.equal(before_g, trainer.g_flat) and torch.equal(before_d, trainer.d_flat)
    trainer.step(progress=0.5)
    assert not torch.equal(before_g, trainer.g_flat)


def test_packing_feeds_d_packed_rows():
    trainer = Trainer.from_config(resolve_config("seed", overrides=[{"model": {"pack": 4}}]))
    stats = trainer.step()
    assert trainer.discriminator[0].in_features == 15 * 4
    assert stats.real_logits.shape == (1, 16)


@pytest.mark.parametrize("extra, logged", [
    ({"train": {"r1": 1.0, "r2": 0.5}}, ["r1", "r2"]),
    ({"train": {"loss": "wasserstein_gp"}}, ["gp"]),
    ({"train": {"loss": "wasserstein", "weight_clip": 0.05}}, ["clip"]),
    ({}, []),
])
def test_each_active_regulariser_logs_its_value(extra, logged):
    trainer = Trainer.from_config(resolve_config("seed", overrides=[extra]))
    stats = trainer.step()
    assert sorted(stats.terms) == logged
    values = stats.per_member()
    for name in logged:
        assert len(values[name]) == 1 and values[name][0] >= 0
    if "clip" in logged:  # the share of D's weights at the bound, and none past it afterwards
        assert 0 < values["clip"][0] <= 1 and trainer.d_flat.abs().max() <= 0.05


def test_r1_adds_half_gamma_times_the_squared_input_gradient():
    plain = Trainer.from_config(resolve_config("seed", overrides=[{"train": {"backward": "autograd"}}]))
    penalised = Trainer.from_config(resolve_config("seed", overrides=[{"train": {"r1": 4.0}}]))
    real = plain.streams.real(8)
    fake = plain.streams.real(8) * 0.5
    base, *_ = plain.gradients.discriminator_loss(real.clone(), fake.clone())
    total, _, _, terms = penalised.gradients.discriminator_loss(real.clone(), fake.clone())
    torch.testing.assert_close(total, base + 2.0 * terms["r1"])
    x = real.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(plain.discriminator(x).sum(), x)
    torch.testing.assert_close(terms["r1"], grad.pow(2).sum(-1).mean(-1))


@pytest.mark.parametrize("data, arch", [("parabola", "mlp"), ("digits", "dcgan")])
def test_bf16_autocast_keeps_float32_weights_and_lands_near_the_float32_step(data, arch):
    overrides = [{"data": {"name": data}, "model": {"arch": arch}, "train": {"amp": "bf16"}}]
    if arch == "dcgan":
        overrides.append({"model": {"options": {"width": 8}}, "train": {"batch_size": 32}})
    trainer = Trainer.from_config(resolve_config("default", overrides=overrides))
    plain = Trainer.from_config(resolve_config("default", overrides=[*overrides, {"train": {"amp": "none"}}]))
    stats, reference = trainer.step(), plain.step()
    assert trainer.g_flat.dtype == torch.float32 and stats.d_loss.dtype == torch.float32
    assert torch.isfinite(trainer.g_flat).all()
    # the same step in bfloat16 lands near the float32 one, not on it
    assert not torch.equal(trainer.g_flat, plain.g_flat)
    torch.testing.assert_close(stats.d_loss, reference.d_loss, rtol=0.05, atol=0.05)


def test_evaluating_in_chunks_of_rows_gives_the_same_numbers(monkeypatch):
    import gankit.evaluation.evaluator

    trainer = Trainer.from_config(resolve_config("seed", overrides=[{"seeds": 3}]))
    for _ in range(5):
        trainer.step()
    evaluator = Evaluator(trainer)
    whole, samples = evaluator.evaluate_members(2048).to_row(), evaluator.sample_members(500, seed=1)
    monkeypatch.setattr(gankit.evaluation.evaluator, "EVAL_CHUNK_ROWS", 100)  # the minimum: 256 rows a pass
    assert evaluator.evaluate_members(2048).to_row() == whole
    assert torch.equal(torch.from_numpy(evaluator.sample_members(500, seed=1)), torch.from_numpy(samples))


@pytest.mark.parametrize("population", ["stacked", "vmap"])
def test_a_generator_with_batch_statistics_is_evaluated_whole(monkeypatch, population):
    import gankit.evaluation.evaluator

    config = resolve_config("pacgan", overrides=[{"seeds": 2, "model": {"population": population}}])
    trainer = Trainer.from_config(config)
    whole = Evaluator(trainer).samples(2048)
    monkeypatch.setattr(gankit.evaluation.evaluator, "EVAL_CHUNK_ROWS", 100)  # slices of 256, were it sliced
    assert torch.equal(torch.from_numpy(Evaluator(trainer).samples(2048)), torch.from_numpy(whole))

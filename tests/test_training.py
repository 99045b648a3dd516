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
    g = type(trainer.generator)(5, 15, [128], "relu")
    d = type(trainer.discriminator)(15, [128], "relu")
    g.load_state_dict(trainer.generator.state_dict())
    d.load_state_dict(trainer.discriminator.state_dict())
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, foreach=False)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, foreach=False)
    data_rng = torch.Generator().manual_seed(trainer.data_rng.initial_seed())
    noise_rng = torch.Generator().manual_seed(trainer.noise_rng.initial_seed())
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for _ in range(5):
        trainer.step()
        for _ in range(2):  # k = 2 discriminator steps, each on fresh batches
            real = trainer.task.sample(64, data_rng)
            fake = g(torch.randn(64, 5, generator=noise_rng)).detach()
            loss = bce(d(real), torch.ones(64)) + bce(d(fake), torch.zeros(64))
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
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


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

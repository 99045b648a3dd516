import pytest
import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.config.resolve import resolve_config
from gankit.core.errors import GankitError
from gankit.nets.pacgan import Maxout, StackedBatchNorm
from gankit.nets.population import VmapPopulation, build_networks
from gankit.training.trainer import Trainer


def _model(**kw):
    return ModelConfig(arch="pacgan_mlp", noise_dim=2, g_hidden=[12, 12], d_hidden=[6, 6], **kw)


def test_maxout_takes_the_largest_of_consecutive_pieces():
    x = torch.tensor([[1.0, 5.0, 2.0, -1.0, -3.0, -2.0]])
    assert Maxout(3)(x).tolist() == [[5.0, -1.0]]


def test_stacked_batch_norm_normalises_each_member_by_its_own_batch():
    bn = StackedBatchNorm(2, 3)
    x = torch.randn(2, 50, 3) * torch.tensor([1.0, 10.0])[:, None, None] + 4
    out = bn(x)
    torch.testing.assert_close(out.mean(1), torch.zeros(2, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var(1, unbiased=False), torch.ones(2, 3), atol=1e-3, rtol=0)
    reference = nn.BatchNorm1d(3, track_running_stats=False)
    torch.testing.assert_close(out[1], reference(x[1]))


def test_stacked_and_vmap_members_match_the_single_build():
    g_s, d_s = build_networks(_model(population="stacked", pack=2), (2,), [5, 6])
    g_v, d_v = build_networks(_model(population="vmap", pack=2), (2,), [5, 6])
    assert isinstance(g_v, VmapPopulation) and not isinstance(g_s, VmapPopulation)
    for stacked, vmapped in ((g_s, g_v), (d_s, d_v)):
        for p, q in zip(stacked.parameters(), vmapped.parameters(), strict=True):
            assert torch.equal(p, q)
    z = torch.randn(2, 40, 2)
    torch.testing.assert_close(g_s(z), g_v(z))
    x = torch.randn(2, 40, 4)  # two 2-D samples packed side by side
    torch.testing.assert_close(d_s(x), d_v(x))
    assert g_s(z).shape == (2, 40, 2) and d_s(x).shape == (2, 40)


def _config(seeds, seed, path):
    return resolve_config("pacgan", overrides=[{"seeds": seeds, "seed": seed, "model": {
        "population": path, "g_hidden": [16, 16], "d_hidden": [8], "pack": 2}},
        {"train": {"batch_size": 20, "lr_g": 1e-3, "lr_d": 1e-3}}])


@pytest.mark.parametrize("path", ["stacked", "vmap"])
def test_member_i_follows_the_single_run_with_seed_s_plus_i(path):
    population = Trainer.from_config(_config(2, 10, path))
    for _ in range(10):
        population.step()
    for i in range(2):
        single = Trainer.from_config(_config(1, 10 + i, path))
        for _ in range(10):
            single.step()
        for ours, ref in ((population.generator, single.generator),
                          (population.discriminator, single.discriminator)):
            for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
                torch.testing.assert_close(p[i], q[0], rtol=1e-4, atol=1e-5)


def test_the_preset_is_pacgans_setup():
    config = resolve_config("pacgan", overrides=[{"data": {"name": "grid"}}])
    m, t = config.model, config.train
    assert (m.arch, m.noise_dim, m.g_hidden, m.d_hidden, m.options["maxout_pieces"]) == \
        ("pacgan_mlp", 2, [400] * 4, [200] * 3, 5)
    assert (t.loss, t.lr_g, t.lr_d, t.betas_g[0], t.batch_size) == ("nonsaturating", 1e-4, 1e-4, 0.8, 100)
    assert config.data.name == "grid"


def test_options_are_checked():
    with pytest.raises(GankitError, match="maxout_pieces must be a whole number of at least 1"):
        build_networks(_model(options={"maxout_pieces": 0}), (2,), [0])
    with pytest.raises(GankitError, match="unknown option model.options.pieces"):
        build_networks(_model(options={"pieces": 5}), (2,), [0])

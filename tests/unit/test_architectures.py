"""Architectures by name (gankit.nets): the registry, option parsing, the dcgan builder's shapes,
member initialisation on both population paths, and PacGAN's packed layout."""

import re

import pytest
import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.core.errors import GankitError
from gankit.nets import ARCHITECTURES, build_networks, mixes_rows, packed_shape
from gankit.nets.dcgan import DCGANOptions
from gankit.nets.pacgan import PacganOptions
from gankit.nets.population import VmapPopulation
from gankit.nets.spec import NoOptions, pack_rows


def _model(**kw):
    return ModelConfig(**{"noise_dim": 3, "g_hidden": [6, 5], "d_hidden": [4], "activation": "elu", **kw})


def test_the_registry_lists_the_three_built_in_architectures():
    assert ARCHITECTURES.names() == ["dcgan", "mlp", "pacgan_mlp"]
    assert ARCHITECTURES.get("mlp").options is NoOptions
    assert ARCHITECTURES.get("dcgan").stacked is None  # members of dcgan take the vmap path
    assert ARCHITECTURES.get("pacgan_mlp").options is PacganOptions
    with pytest.raises(GankitError, match="unknown architecture 'dcgn' \\(did you mean 'dcgan'\\?\\); "
                       "choose one of: dcgan, mlp, pacgan_mlp"):
        ARCHITECTURES.get("dcgn")


def test_parse_options_fills_defaults_and_refuses_unknown_keys_with_a_did_you_mean():
    dcgan = ARCHITECTURES.get("dcgan")
    assert dcgan.parse_options({"width": 8}, "dcgan") == DCGANOptions(width=8, g_norm="layer", d_norm="none")
    assert dcgan.parse_options({}, "dcgan") == DCGANOptions(width=32)
    with pytest.raises(GankitError, match=r"^unknown option model.options.widht for architecture 'dcgan' "
                       r"\(did you mean 'width'\?\); accepted: d_norm, g_norm, projection, width$"):
        dcgan.parse_options({"widht": 8}, "dcgan")
    with pytest.raises(GankitError, match=r"^unknown option model.options.width for architecture 'mlp'; "
                       r"accepted: none$"):
        ARCHITECTURES.get("mlp").parse_options({"width": 8}, "mlp")


@pytest.mark.parametrize(("options", "message"), [
    ({"width": 0}, "width must be a positive whole number, got 0"),
    ({"width": "8"}, "width must be a positive whole number, got '8'"),
    ({"g_norm": "batch"}, "g_norm must be 'layer', 'none' or 'conditional', got 'batch'"),
    ({"d_norm": None}, "d_norm must be 'layer' or 'none', got None"),
])
def test_parse_options_refuses_bad_values_naming_the_architecture(options, message):
    with pytest.raises(GankitError) as raised:
        ARCHITECTURES.get("dcgan").parse_options(options, "dcgan")
    assert str(raised.value) == f"model.options for architecture 'dcgan': {message}"


@pytest.mark.parametrize("shape", [(1, 8, 16), (1, 12, 12), (1, 4, 4), (64,), (8, 8)])
def test_dcgan_refuses_shapes_other_than_square_power_of_two_images(shape):
    with pytest.raises(GankitError, match=r"architecture 'dcgan' takes square images of a power-of-two "
                       rf"size of 8 or more.*this data has shape {re.escape(str(shape))}$"):
        build_networks(_model(arch="dcgan", options={"width": 2}), shape, [0])


def _channels(network, kind):
    return [(m.in_channels, m.out_channels) for m in network if type(m) is kind]


def test_dcgan_width_sets_the_channel_counts_doubling_at_each_halving():
    dcgan = ARCHITECTURES.get("dcgan")
    model = _model(arch="dcgan", noise_dim=7)
    for width in (4, 8):
        options = dcgan.parse_options({"width": width}, "dcgan")
        g = dcgan.build(model, (3, 16, 16), "generator", options)  # 16 -> 8 -> 4: two halvings
        d = dcgan.build(model, (3, 16, 16), "discriminator", options)
        w = width
        assert (g[0].in_features, g[0].out_features) == (7, 4 * w * 16)  # a 4x4 map of 4w channels
        assert _channels(g, nn.ConvTranspose2d) == [(4 * w, 2 * w), (2 * w, w)]
        assert _channels(g, nn.Conv2d) == [(w, 3)]
        assert _channels(d, nn.Conv2d) == [(3, w), (w, 2 * w), (2 * w, 4 * w)]
        assert (d[-1].in_features, d[-1].out_features) == (4 * w * 16, 1)
        assert g(torch.randn(5, 7)).shape == (5, 3, 16, 16) and d(torch.randn(5, 3, 16, 16)).shape == (5, 1)


def test_dcgan_norm_options_put_layer_norm_where_asked():
    dcgan = ARCHITECTURES.get("dcgan")
    model = _model(arch="dcgan")
    options = dcgan.parse_options({"width": 2, "g_norm": "none", "d_norm": "layer"}, "dcgan")
    g = dcgan.build(model, (1, 8, 8), "generator", options)
    d = dcgan.build(model, (1, 8, 8), "discriminator", options)
    assert not any(isinstance(m, nn.GroupNorm) for m in g)
    assert [(m.num_groups, m.num_channels) for m in d if isinstance(m, nn.GroupNorm)] == [(1, 4)]
    defaults = dcgan.parse_options({"width": 2}, "dcgan")
    g = dcgan.build(model, (1, 8, 8), "generator", defaults)
    assert [m.num_channels for m in g if isinstance(m, nn.GroupNorm)] == [4, 2]
    with pytest.raises(GankitError, match="spectral_norm is implemented in the stacked MLP only"):
        dcgan.build(_model(arch="dcgan", spectral_norm=True), (1, 8, 8), "discriminator", defaults)


def test_pacgan_builders_follow_their_parsed_options():
    pacgan = ARCHITECTURES.get("pacgan_mlp")
    model = _model(arch="pacgan_mlp", d_hidden=[4, 2])
    options = pacgan.parse_options({"maxout_pieces": 3, "batch_norm": False}, "pacgan_mlp")
    d = pacgan.build(model, (2,), "discriminator", options)
    linears = [(m.in_features, m.out_features) for m in d if isinstance(m, nn.Linear)]
    assert linears == [(2, 12), (4, 6), (2, 1)]  # 4 and 2 maxout units of 3 pieces, then the logit
    g = pacgan.build(model, (2,), "generator", options)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in g)
    assert all(m.bias is not None for m in g if isinstance(m, nn.Linear))
    g = pacgan.build(model, (2,), "generator", pacgan.parse_options({}, "pacgan_mlp"))
    assert [m.num_features for m in g if isinstance(m, nn.BatchNorm1d)] == [6, 5]
    assert [m.bias is None for m in g if isinstance(m, nn.Linear)] == [True, True, False]


def _plain_member(model, shape, seed):
    """A single member built as a single run with ``seed`` builds it: G, then D, from the global RNG."""
    mlp = ARCHITECTURES.get("mlp")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g = mlp.build(model, shape, "generator", NoOptions())
        d = mlp.build(model, packed_shape(shape, model.pack), "discriminator", NoOptions())
    return g, d


@pytest.mark.parametrize("path", ["stacked", "vmap"])
def test_member_i_starts_with_the_weights_of_a_single_member_build_with_seed_i(path):
    model = _model(population=path, pack=2)
    seeds = [7, 8, 9]
    g, d = build_networks(model, (2, 3), seeds)
    assert isinstance(g, VmapPopulation) == (path == "vmap")
    for i, seed in enumerate(seeds):
        plain_g, plain_d = _plain_member(model, (2, 3), seed)
        single_g, single_d = build_networks(model, (2, 3), [seed])
        for population, plain, single in ((g, plain_g, single_g), (d, plain_d, single_d)):
            ours, theirs = list(population.parameters()), list(plain.parameters())
            alone = list(single.parameters())
            assert [p.shape[1:] for p in ours] == [p.shape for p in theirs]
            assert all(torch.equal(p[i], q) for p, q in zip(ours, theirs, strict=True))
            assert all(torch.equal(p[i], q[0]) for p, q in zip(ours, alone, strict=True))
    z = torch.randn(3, 4, 3)
    for i, seed in enumerate(seeds):
        plain_g, _ = _plain_member(model, (2, 3), seed)
        torch.testing.assert_close(g(z)[i], plain_g(z[i]))


def test_packed_shape_puts_pack_samples_side_by_side_on_the_first_axis():
    assert packed_shape((3,), 4) == (12,)
    assert packed_shape((2, 5, 5), 2) == (4, 5, 5)
    assert packed_shape((7,), 1) == (7,)


def test_pack_rows_concatenates_consecutive_samples_of_each_member():
    x = torch.arange(16.0).reshape(2, 4, 2)  # 2 members, 4 samples of 2 features
    assert torch.equal(pack_rows(x, 2), torch.tensor([[[0.0, 1, 2, 3], [4, 5, 6, 7]],
                                                       [[8, 9, 10, 11], [12, 13, 14, 15]]]))
    assert torch.equal(pack_rows(x, 4), torch.arange(16.0).reshape(2, 1, 8))
    assert torch.equal(pack_rows(x, 1), x)
    images = torch.arange(8.0).reshape(1, 4, 1, 1, 2)  # 4 one-channel 1x2 images
    packed = pack_rows(images, 2)
    assert packed.shape == (1, 2, 2, 1, 2)  # two rows of two images stacked as channels
    assert torch.equal(packed[0, 1], torch.tensor([[[4.0, 5]], [[6, 7]]]))


def test_only_networks_with_batch_statistics_mix_rows():
    g, d = build_networks(_model(arch="pacgan_mlp"), (2,), [0])
    assert mixes_rows(g) and not mixes_rows(d)
    g, d = build_networks(_model(), (2,), [0])
    assert not mixes_rows(g) and not mixes_rows(d)

import pytest
import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.core.errors import GankitError
from gankit.nets import build_networks
from gankit.nets.layers import MLP, Discriminator, Generator, StackedLinear, initialise


def _shapes(module):
    return [(type(m).__name__, getattr(m, "in_features", None), getattr(m, "out_features", None))
            for m in module]


def test_seed_architecture_is_available_exactly():
    g = Generator(1, noise_dim=5, shape=15, hidden=[128], activation="relu")
    d = Discriminator(1, shape=15, hidden=[128], activation="relu")
    assert _shapes(g) == [("StackedLinear", 5, 128), ("ReLU", None, None), ("StackedLinear", 128, 15)]
    assert _shapes(d) == [("StackedLinear", 15, 128), ("ReLU", None, None), ("StackedLinear", 128, 1)]


def test_a_member_computes_what_the_plain_network_computes():
    g = Generator(3, 5, 15, [32, 32], "leaky_relu")
    initialise([7, 8, 9], g)
    torch.manual_seed(8)  # member 1 is initialised as nn.Linear layers built after seeding 8
    plain = nn.Sequential(nn.Linear(5, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                          nn.Linear(32, 15))
    z = torch.randn(3, 10, 5)
    torch.testing.assert_close(g(z)[1], plain(z[1]), rtol=1e-5, atol=1e-6)


def test_initialise_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    initialise([1, 2], MLP(2, 3, [4], 1))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_discriminator_returns_one_logit_per_row_without_sigmoid():
    d = Discriminator(2, 4, [8, 8], "leaky_relu")
    initialise([0, 1], d)
    with torch.no_grad():
        d[-1].bias.fill_(50.0)
        out = d(torch.zeros(2, 6, 4))
    assert out.shape == (2, 6)
    assert (out > 1).all()  # a logit, not a probability


def test_packing_multiplies_the_discriminator_input():
    _, d = build_networks(ModelConfig(d_hidden=[16], pack=4), (2,), [0])
    assert d[0].in_features == 8 and d.pack == 4


def test_spectral_norm_bounds_the_largest_singular_value():
    layer = StackedLinear(2, 20, 30, spectral_norm=True)
    with torch.no_grad():
        layer.weight.normal_(0, 3.0)
        layer.bias.zero_()
        layer.u.normal_()
    plain_sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2)
    assert (plain_sigma > 5).all()
    for _ in range(30):  # power iteration converges over forward passes in training mode
        layer(torch.randn(2, 4, 20))
    sigma = torch.linalg.matrix_norm(layer.effective_weight().detach(), ord=2)
    torch.testing.assert_close(sigma, torch.ones(2), rtol=1e-3, atol=1e-3)


def test_depth_and_activation_are_configurable():
    net = MLP(1, 3, [16, 16, 16], 2, "tanh")
    assert sum(isinstance(m, StackedLinear) for m in net) == 4
    assert sum(isinstance(m, nn.Tanh) for m in net) == 3


def test_unknown_activation_is_a_user_error():
    with pytest.raises(GankitError, match="activation"):
        MLP(1, 3, [4], 1, "sigmoidd")

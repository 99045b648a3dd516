import pytest
from torch import nn

from gankit.errors import GankitError
from gankit.models import MLP, Discriminator, Generator


def _shapes(module):
    return [(type(m).__name__, getattr(m, "in_features", None), getattr(m, "out_features", None))
            for m in module]


def test_seed_architecture_is_available_exactly():
    g = Generator(noise_dim=5, data_dim=15, hidden=[128], activation="relu")
    d = Discriminator(data_dim=15, hidden=[128], activation="relu")
    assert _shapes(g) == [("Linear", 5, 128), ("ReLU", None, None), ("Linear", 128, 15)]
    assert _shapes(d) == [("Linear", 15, 128), ("ReLU", None, None), ("Linear", 128, 1)]


def test_discriminator_returns_one_logit_per_row_without_sigmoid():
    import torch

    d = Discriminator(4, [8, 8], "leaky_relu")
    with torch.no_grad():
        d[-1].bias.fill_(50.0)
        out = d(torch.zeros(6, 4))
    assert out.shape == (6,)
    assert (out > 1).all()  # a logit, not a probability


def test_depth_and_activation_are_configurable():
    net = MLP(3, [16, 16, 16], 2, "tanh")
    assert sum(isinstance(m, nn.Linear) for m in net) == 4
    assert sum(isinstance(m, nn.Tanh) for m in net) == 3


def test_unknown_activation_is_a_user_error():
    with pytest.raises(GankitError, match="activation"):
        MLP(3, [4], 1, "sigmoidd")

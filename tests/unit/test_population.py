import copy

import pytest
import torch

from gankit.config import ModelConfig
from gankit.core.errors import GankitError
from gankit.nets.population import VmapPopulation, build_networks, packed_shape


def _model(**kw):
    return ModelConfig(noise_dim=3, g_hidden=[8], d_hidden=[8], activation="elu", **kw)


def test_stacked_and_vmap_paths_build_the_same_members_and_compute_the_same():
    g_s, d_s = build_networks(_model(population="stacked"), (4,), [5, 6])
    g_v, d_v = build_networks(_model(population="vmap"), (4,), [5, 6])
    assert isinstance(g_v, VmapPopulation) and not isinstance(g_s, VmapPopulation)
    for ps, pv in zip(g_s.parameters(), g_v.parameters()):
        assert torch.equal(ps, pv)  # the same initial weights, member by member
    z = torch.randn(2, 10, 3)
    torch.testing.assert_close(g_s(z), g_v(z))
    x = torch.randn(2, 10, 4)
    torch.testing.assert_close(d_s(x), d_v(x))
    assert d_v(x).shape == (2, 10)


def test_generators_return_the_data_shape_and_discriminators_take_packed_rows():
    for path in ("stacked", "vmap"):
        g, d = build_networks(_model(population=path, pack=2), (2, 3), [0, 1, 2])
        assert g(torch.randn(3, 5, 3)).shape == (3, 5, 2, 3)
        assert d(torch.randn(3, 5, *packed_shape((2, 3), 2))).shape == (3, 5)
        assert d.pack == 2


def test_a_vmap_population_copies_and_saves_only_its_stacked_weights():
    g, _ = build_networks(_model(population="vmap"), (4,), [0, 1])
    twin = copy.deepcopy(g)
    with torch.no_grad():
        next(twin.parameters()).add_(1)
    assert not torch.equal(next(g.parameters()), next(twin.parameters()))
    assert all(t.shape[0] == 2 and t.device.type == "cpu" for t in g.state_dict().values())
    g.load_state_dict(twin.state_dict())
    assert torch.equal(next(g.parameters()), next(twin.parameters()))


def test_path_choices_are_checked():
    with pytest.raises(GankitError, match="spectral_norm is implemented in the stacked MLP only"):
        build_networks(_model(population="vmap", spectral_norm=True), (4,), [0])
    with pytest.raises(GankitError, match="model.population must be one of auto, stacked, vmap"):
        build_networks(_model(population="fast"), (4,), [0])


def test_building_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    build_networks(_model(population="vmap"), (4,), [1, 2])
    assert torch.equal(torch.random.get_rng_state(), before)

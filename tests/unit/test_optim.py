import torch
from torch import nn

from gankit.training.optim import FlatAdam, WeightAverage, flat_grad, flatten_parameters


def _net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))


def test_flatten_keeps_values_and_makes_views():
    net = _net(0)
    before = [p.detach().clone() for p in net.parameters()]
    flat = flatten_parameters(net)
    assert flat.numel() == sum(p.numel() for p in before)
    for p, b in zip(net.parameters(), before):
        assert torch.equal(p, b)
    flat.zero_()
    assert all(torch.count_nonzero(p) == 0 for p in net.parameters())


def test_flat_adam_matches_torch_adam():
    ours, ref = _net(1), _net(1)
    flat = flatten_parameters(ours)
    opt = FlatAdam(flat, lr=1e-2, betas=(0.5, 0.99), eps=1e-8)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=1e-2, betas=(0.5, 0.99), eps=1e-8, foreach=False)
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(0))
    for _ in range(25):
        opt.step(flat_grad(ours(x).pow(2).mean(), list(ours.parameters())))
        ref_opt.zero_grad()
        ref(x).pow(2).mean().backward()
        ref_opt.step()
    for p, q in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_flat_adam_state_round_trip():
    flat = flatten_parameters(_net(2))
    opt = FlatAdam(flat, lr=1e-3)
    opt.step(torch.ones_like(flat))
    other = FlatAdam(flat.clone(), lr=5.0)
    other.load_state_dict(opt.state_dict())
    assert other.steps == 1 and other.lr == 1e-3
    assert torch.equal(other.exp_avg, opt.exp_avg)


def test_weight_average_is_an_exponential_moving_average():
    average = torch.zeros(3)
    ema = WeightAverage(average, decay=0.9)
    ema.update(torch.full((3,), 10.0))
    ema.update(torch.full((3,), 10.0))
    # 0 -> 1 -> 1.9 (each step moves 10% of the way)
    torch.testing.assert_close(average, torch.full((3,), 1.9))

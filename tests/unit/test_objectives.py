import math

import pytest
import torch

from gankit.core.errors import GankitError
from gankit.objectives import OBJECTIVES, value_function
from gankit.training.logit_grads import LOGIT_GRADIENTS


def test_value_is_minus_log_4_when_d_is_one_half_everywhere():
    # D = sigmoid(0) = 1/2 on every point: eq. (1) equals log(1/2) + log(1/2) = -log 4.
    zeros = torch.zeros(10)
    assert value_function(zeros, zeros).item() == pytest.approx(-math.log(4))
    for name in ("minimax", "nonsaturating"):
        assert OBJECTIVES.get(name).d_loss(zeros, zeros).item() == pytest.approx(math.log(4))


def test_losses_match_hand_computed_values():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 3.0])
    sig = torch.sigmoid
    expected_d = -(torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean())
    obj = OBJECTIVES.get("minimax")
    assert obj.d_loss(real, fake).item() == pytest.approx(expected_d.item(), rel=1e-6)
    # eq. (3): G minimises E log(1 - D(G(z)))
    assert obj.g_loss(fake).item() == pytest.approx(torch.log(1 - sig(fake)).mean().item(), rel=1e-6)
    # non-saturating: G minimises -E log D(G(z))
    ns = OBJECTIVES.get("nonsaturating")
    assert ns.g_loss(fake).item() == pytest.approx(-torch.log(sig(fake)).mean().item(), rel=1e-6)


def test_losses_stay_finite_when_d_saturates():
    extreme = torch.tensor([-200.0, 200.0])
    for name in OBJECTIVES:
        obj = OBJECTIVES.get(name)
        assert torch.isfinite(obj.d_loss(extreme, extreme))
        assert torch.isfinite(obj.g_loss(extreme, extreme.flip(0)))


def test_minimax_generator_gradient_vanishes_where_nonsaturating_does_not():
    # D confidently rejects the fakes: D(G(z)) = sigmoid(-10), about 4.5e-5.
    for name, small in (("minimax", True), ("nonsaturating", False)):
        logits = torch.full((4,), -10.0, requires_grad=True)
        OBJECTIVES.get(name).g_loss(logits).backward()
        size = logits.grad.abs().max().item()
        assert (size < 1e-4) == small, (name, size)


def test_unknown_objective_suggests_a_name():
    with pytest.raises(GankitError, match="did you mean 'minimax'"):
        OBJECTIVES.get("minmax")


def test_least_squares_wasserstein_and_hinge_hand_values():
    real, fake = torch.tensor([[2.0, 0.0]]), torch.tensor([[-1.0, 3.0]])
    ls = OBJECTIVES.get("least_squares")
    # 1/2 mean((r-1)^2) + 1/2 mean(f^2) = 1/2 * (1 + 1)/2 + 1/2 * (1 + 9)/2
    assert ls.d_loss(real, fake).item() == pytest.approx(0.5 + 2.5)
    assert ls.g_loss(fake).item() == pytest.approx(0.5 * (4 + 4) / 2)
    w = OBJECTIVES.get("wasserstein")
    assert w.d_loss(real, fake).item() == pytest.approx(1.0 - 1.0)
    assert w.g_loss(fake).item() == pytest.approx(-1.0)
    assert w.regularisers == ("clip",) and OBJECTIVES.get("wasserstein_gp").regularisers == ("gp",)
    h = OBJECTIVES.get("hinge")
    # mean(relu(1 - r)) = (0 + 1)/2 ; mean(relu(1 + f)) = (0 + 4)/2
    assert h.d_loss(real, fake).item() == pytest.approx(0.5 + 2.0)
    assert h.g_loss(fake).item() == pytest.approx(-1.0)


def test_relativistic_losses_compare_paired_real_and_fake_logits_by_hand():
    real, fake = torch.tensor([[2.0, 0.0]]), torch.tensor([[-1.0, 3.0]])
    r = OBJECTIVES.get("relativistic")
    softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731
    # D: mean softplus(-(r - f)) over the pairs (2 - -1) = 3 and (0 - 3) = -3
    assert r.d_loss(real, fake).item() == pytest.approx((softplus(-3) + softplus(3)) / 2)
    # G: the same with the roles swapped, so here the two losses are equal
    assert r.g_loss(fake, real).item() == pytest.approx((softplus(3) + softplus(-3)) / 2)
    assert r.g_loss(torch.tensor([[5.0]]), torch.tensor([[0.0]])).item() == pytest.approx(softplus(-5))
    assert r.g_needs_real
    with pytest.raises(ValueError, match="real logits"):
        r.g_loss(fake)


def test_losses_are_per_member():
    real = torch.tensor([[0.0, 0.0], [5.0, 5.0]])
    fake = torch.tensor([[0.0, 0.0], [-5.0, -5.0]])
    for name in OBJECTIVES:
        loss = OBJECTIVES.get(name).d_loss(real, fake)
        assert loss.shape == (2,)


def test_gradient_penalties_on_a_linear_critic_with_known_gradient():
    from gankit.objectives import gradient_penalty, squared_gradient_penalty

    w = torch.tensor([3.0, 4.0])  # ||grad D|| = ||w|| = 5 everywhere
    x = torch.randn(1, 7, 2, requires_grad=True)
    out = (x * w).sum(-1) + 1.0
    assert gradient_penalty(out, x).item() == pytest.approx((5 - 1) ** 2)
    assert squared_gradient_penalty(out, x).item() == pytest.approx(25.0)


@pytest.mark.parametrize("name", sorted(LOGIT_GRADIENTS))
def test_the_logit_gradient_formulas_give_autograds_bits(name):
    objective = OBJECTIVES.get(name)
    d_grad, g_grad = LOGIT_GRADIENTS[name]
    generator = torch.Generator().manual_seed(0)
    for scale in (1.0, 30.0):  # 30: past softplus's linear threshold of 20
        real = (torch.randn(3, 40, generator=generator) * scale).requires_grad_()
        fake = (torch.randn(3, 40, generator=generator) * scale).requires_grad_()
        want = torch.autograd.grad(objective.d_loss(real, fake).sum(), (real, fake), allow_unused=True)
        got = d_grad(real.detach(), fake.detach())
        assert all(torch.equal(w, g) for w, g in zip(want, got))
        (want_g,) = torch.autograd.grad(objective.g_loss(fake, real.detach()).sum(), fake)
        assert torch.equal(g_grad(fake.detach(), real.detach()), want_g)

"""The divergence guard (gankit.session.divergence) on a small trainer and a run folder: which
non-finite numbers stop a run, which only mark a member, and what a rollback restores."""

import pytest
import torch

from gankit.config.resolve import resolve_config
from gankit.core.errors import GankitError
from gankit.session.divergence import DivergenceGuard, TrainingDiverged
from gankit.session.observers import Checkpoints
from gankit.store.rundir import RunFolder
from gankit.training.trainer import Trainer


def _setup(tmp_path, seeds=1, **train):
    config = resolve_config("seed", overrides=[{"seeds": seeds, "model": {"g_hidden": [8], "d_hidden": [8]},
                                                "train": {"batch_size": 16, **train}}])
    trainer = Trainer.from_config(config)
    folder = RunFolder(tmp_path / "run")
    folder.create(config, overwrite=False)
    guard = DivergenceGuard(trainer, folder)
    return trainer, folder, guard, Checkpoints(folder, guard, config)


def _checked_step(trainer, guard):
    stats = trainer.step()
    guard.check_losses(trainer.step_count, stats)
    return stats


def _poisoned_step(trainer, loss, members, value=float("nan")):
    stats = trainer.step()
    broken = getattr(stats, loss).clone()
    broken[members] = value
    setattr(stats, loss, broken)
    return stats


def _break_weight(network, member, value=float("nan")):
    with torch.no_grad():
        next(network.parameters())[member].view(-1)[0] = value


def test_a_nan_loss_of_a_single_run_names_the_step_the_losses_before_and_the_last_checkpoint(tmp_path):
    trainer, folder, guard, checkpoints = _setup(tmp_path)
    checkpoints.save(trainer)
    _checked_step(trainer, guard)
    before = _checked_step(trainer, guard)
    checkpoints.save(trainer)
    stats = _poisoned_step(trainer, "d_loss", 0)
    with pytest.raises(TrainingDiverged) as raised:
        guard.check_losses(3, stats)
    d, g = before.d_loss.item(), before.g_loss.item()
    assert str(raised.value) == (f"training diverged at step 3: d_loss is nan; at step 2: d_loss {d:.4g}, "
                                 f"g_loss {g:.4g}; the last good checkpoint is "
                                 f"{folder.checkpoints / 'step_00000002.pt'}")
    assert isinstance(raised.value, GankitError)  # the CLI prints it as one line
    assert trainer.diverged.tolist() == [False]


def test_an_infinite_generator_loss_before_any_checkpoint_says_none_was_written(tmp_path):
    trainer, _, guard, _ = _setup(tmp_path)
    stats = _poisoned_step(trainer, "g_loss", 0, float("inf"))
    with pytest.raises(TrainingDiverged) as raised:
        guard.check_losses(1, stats)
    assert str(raised.value) == "training diverged at step 1: g_loss is inf; no checkpoint was written"


def test_a_nan_member_of_a_population_is_marked_and_the_others_train_on(tmp_path, capsys):
    trainer, _, guard, _ = _setup(tmp_path, seeds=3)
    guard.check_losses(1, _poisoned_step(trainer, "d_loss", 1))
    assert trainer.diverged.tolist() == [False, True, False]
    assert "member(s) [1] diverged at step 1 (d_loss is nan)" in capsys.readouterr().out
    for step in (2, 3):  # the marked member stays broken; it is not reported again, nothing stops
        guard.check_losses(step, _poisoned_step(trainer, "d_loss", 1))
    assert trainer.step_count == 3 and trainer.diverged.tolist() == [False, True, False]
    assert "diverged" not in capsys.readouterr().out
    assert torch.isfinite(trainer.g_flat).all() and torch.isfinite(trainer.d_flat).all()


def test_once_every_member_has_diverged_the_population_stops(tmp_path):
    trainer, _, guard, _ = _setup(tmp_path, seeds=2)
    guard.check_losses(1, _poisoned_step(trainer, "d_loss", 0))
    with pytest.raises(TrainingDiverged, match=r"^training diverged at step 2: every member has diverged "
                       r"\(last: g_loss is inf\); no checkpoint was written$"):
        guard.check_losses(2, _poisoned_step(trainer, "g_loss", 1, float("inf")))
    assert trainer.diverged.tolist() == [True, True]


def test_all_members_going_nan_in_one_step_stops_the_population(tmp_path):
    trainer, _, guard, _ = _setup(tmp_path, seeds=2)
    with pytest.raises(TrainingDiverged,
                       match=r"at step 1: every member has diverged \(last: d_loss is nan\)"):
        guard.check_losses(1, _poisoned_step(trainer, "d_loss", [0, 1]))


def test_check_weights_marks_members_with_non_finite_weights_until_none_is_left(tmp_path, capsys):
    trainer, folder, guard, checkpoints = _setup(tmp_path, seeds=3)
    _checked_step(trainer, guard)
    guard.check_weights()  # all finite: nothing happens
    assert trainer.diverged.tolist() == [False, False, False]
    _break_weight(trainer.discriminator, 2)
    guard.check_weights()
    assert trainer.diverged.tolist() == [False, False, True]
    assert "member(s) [2] diverged by step 1 (non-finite discriminator weights)" in capsys.readouterr().out
    _break_weight(trainer.generator, 0, float("inf"))
    checkpoints.save(trainer)  # marks member 0, then saves: one member is still whole
    assert trainer.diverged.tolist() == [True, False, True]
    assert [p.name for p in folder.checkpoints.glob("step_*.pt")] == ["step_00000001.pt"]
    guard.check_weights()  # members already marked are not counted again
    _break_weight(trainer.generator, 1)
    with pytest.raises(TrainingDiverged, match="^training diverged at step 1: the generator's weights are "
                       "not finite; the last good checkpoint is .*step_00000001.pt$"):
        checkpoints.save(trainer)  # no checkpoint with every member broken


def test_a_single_run_with_a_non_finite_weight_stops_before_its_checkpoint(tmp_path):
    trainer, folder, guard, checkpoints = _setup(tmp_path)
    checkpoints.save(trainer)
    _checked_step(trainer, guard)
    _break_weight(trainer.discriminator, 0)
    with pytest.raises(TrainingDiverged, match="at step 1: the discriminator's weights are not finite"):
        checkpoints.save(trainer)
    assert [p.name for p in folder.checkpoints.glob("step_*.pt")] == ["step_00000000.pt"]


def test_roll_back_restores_the_last_checkpoint_and_scales_both_learning_rates(tmp_path):
    trainer, _, guard, checkpoints = _setup(tmp_path, lr_g=2e-4, lr_d=1e-4, on_divergence="rollback",
                                            rollback_lr_factor=0.25, max_rollbacks=2)
    for _ in range(2):
        _checked_step(trainer, guard)
    checkpoints.save(trainer)
    saved_g, saved_d = trainer.g_flat.clone(), trainer.d_flat.clone()
    saved_noise = [rng.get_state() for rng in trainer.streams.noise_rngs]
    for _ in range(3):
        _checked_step(trainer, guard)
    assert not torch.equal(trainer.g_flat, saved_g)

    assert guard.roll_back(TrainingDiverged("training diverged at step 5: d_loss is nan")) is True
    assert trainer.step_count == 2 and guard.rollbacks == 1
    assert torch.equal(trainer.g_flat, saved_g) and torch.equal(trainer.d_flat, saved_d)
    assert all(torch.equal(rng.get_state(), s) for rng, s in zip(trainer.streams.noise_rngs, saved_noise))
    assert trainer.opt_g.lr == pytest.approx(2e-4 * 0.25) and trainer.opt_d.lr == pytest.approx(1e-4 * 0.25)
    assert guard.previous is None  # the losses before the rollback are not "the step before"
    # A second rollback to the same checkpoint goes lower again, not back to the checkpoint's rates.
    _checked_step(trainer, guard)
    assert guard.roll_back(TrainingDiverged("training diverged at step 3: d_loss is nan")) is True
    assert trainer.learning_rates == pytest.approx((2e-4 * 0.25**2, 1e-4 * 0.25**2))


def test_roll_back_is_refused_after_max_rollbacks_and_when_the_run_stops_on_divergence(tmp_path):
    trainer, _, guard, checkpoints = _setup(tmp_path, on_divergence="rollback", max_rollbacks=2)
    checkpoints.save(trainer)
    diverged = TrainingDiverged("training diverged")
    for _ in range(2):
        _checked_step(trainer, guard)
        assert guard.roll_back(diverged) is True and trainer.step_count == 0
    _checked_step(trainer, guard)
    assert guard.roll_back(diverged) is False
    assert trainer.step_count == 1 and guard.rollbacks == 2  # refused: the trainer is left as it was

    trainer, _, guard, checkpoints = _setup(tmp_path / "stop")  # train.on_divergence = "stop"
    checkpoints.save(trainer)
    _checked_step(trainer, guard)
    assert guard.roll_back(diverged) is False and trainer.step_count == 1

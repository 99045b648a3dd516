"""Members in chunks keep every member's bits; the probe's choice is recorded in run.json."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.config.resolve import resolve_config
from gankit.training.chunks import MemberChunks, Plan, member_slices, population_record
from gankit.training.trainer import Trainer

SMALL = {"model": {"g_hidden": [64, 32], "d_hidden": [64, 32]}, "train": {"batch_size": 64}}


def _trainer(preset: str, overrides: dict, plan: Plan | None = None) -> Trainer:
    trainer = Trainer.from_config(resolve_config(preset, overrides=[overrides]))
    assert isinstance(trainer.gradients, MemberChunks)
    if plan is not None:
        trainer.gradients._settle(plan)
    return trainer


def _state(trainer: Trainer) -> list[torch.Tensor]:
    ema = [] if trainer.ema is None else [trainer.ema.average]
    return [trainer.g_flat, trainer.d_flat, trainer.opt_g.exp_avg_sq, trainer.opt_d.exp_avg, *ema]


def _same_run(a: Trainer, b: Trainer, steps: int) -> None:
    for _ in range(steps):
        x, y = a.step(), b.step()
        for name in ("d_loss", "g_loss", "real_logits", "fake_logits"):
            assert torch.equal(getattr(x, name), getattr(y, name)), name
    for u, v in zip(_state(a), _state(b)):
        assert torch.equal(u, v)


def test_member_slices_cover_every_member_and_leave_none_alone():
    assert member_slices(8, 4) == [slice(0, 4), slice(4, 8)]
    assert member_slices(9, 4) == [slice(0, 4), slice(4, 9)]  # no chunk of one member
    assert member_slices(10, 4) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    for members in range(2, 20):
        for chunk in range(2, 9):
            slices = member_slices(members, chunk)
            assert [i for s in slices for i in range(members)[s]] == list(range(members))
            assert all(s.stop - s.start >= 2 for s in slices)


@pytest.mark.parametrize("plan", [Plan(2), Plan(3), Plan(4, 2), Plan(5, 2)])
@pytest.mark.parametrize("case", [
    ("default", {"seeds": 7, **SMALL}),
    ("default", {"seeds": 6, "model": {"activation": "gelu", "g_hidden": [64], "d_hidden": [64]},
                 "train": {"loss": "hinge", "batch_size": 64, "d_steps": 2}}),
    ("seed", {"seeds": 5}),
    ("default", {"seeds": 6, "data": {"condition": ["a"]}, **SMALL}),  # c after the noise and the point
    ("ring", {"seeds": 4, "data": {"condition": ["mode"]}, "train": {"r1": 0.0, "batch_size": 64}}),
])
def test_chunked_members_are_the_whole_populations_bits(case, plan):
    preset, overrides = case
    _same_run(_trainer(preset, overrides, Plan(None)), _trainer(preset, overrides, plan), steps=4)


def test_default_sizes_chunked_on_two_threads_keep_the_bits():
    overrides = {"seeds": 6}  # the default preset's own widths and batch: [6, 512, 128] in D
    _same_run(_trainer("default", overrides, Plan(None)), _trainer("default", overrides, Plan(2, 2)), steps=3)


def test_the_probe_runs_on_the_first_iterations_and_changes_no_bit():
    overrides = {"seeds": 8, **SMALL}
    probed, whole = _trainer("default", overrides), _trainer("default", overrides, Plan(None))
    steps = 0
    while probed.gradients.plan is None:
        probed.step(), whole.step()
        steps += 1
    record = probed.gradients.record
    assert steps == record["probe_steps"] == 3 * len(probed.gradients.candidates())
    assert set(record["probe_ms"]) == {plan.label for plan in probed.gradients.candidates()}
    assert record["chunk"] in (None, 2, 4) and record["workers"] in (1, 2)
    _same_run(probed, whole, steps=2)


def test_unaligned_rows_small_populations_and_the_override_compute_all_at_once():
    unaligned = _trainer("default", {"seeds": 4, "train": {"batch_size": 20}})
    unaligned.step()
    assert unaligned.gradients.plan == Plan(None)
    assert "multiples of 64" in unaligned.gradients.record["reason"]
    assert _trainer("default", {"seeds": 3}).gradients.record["reason"] == "fewer than 4 members"
    whole = MemberChunks(_trainer("default", {"seeds": 8}).gradients.path, 8, torch.device("cpu"), "whole")
    assert whole.plan == Plan(None) and "asked for" in whole.record["reason"]


def test_the_record_names_the_path_for_one_member_and_for_autograd():
    one = Trainer.from_config(resolve_config("default"))
    assert population_record(one.gradients, 1) is None
    autograd = Trainer.from_config(resolve_config("default", overrides=[{"seeds": 4,
                                                                         "train": {"backward": "autograd"}}]))
    assert population_record(autograd.gradients, 4) == {
        "members": 4, "chunk": None, "workers": 1, "reason": "the autograd path computes all members at once"}


def test_run_json_records_the_population_path(tmp_path):
    import gankit

    gankit.train(preset="default", seeds=4, steps=20, out=tmp_path / "run", progress=False, figures=False)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    record = info["population_path"]
    assert record["members"] == 4 and record["probe_steps"] == 3 * len(record["probe_ms"])
    assert record["chunk"] in (None, 2)

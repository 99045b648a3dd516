"""Divergence in one place: spotting non-finite losses and weights, and rolling back.

Members never interact, so in a population a member whose numbers broke is marked and left out
of the statistics while the others train on; training stops only when a single run or every
member has diverged, unless ``train.on_divergence = "rollback"`` sends it back to the last good
checkpoint with smaller learning rates.
"""

from __future__ import annotations

from typing import Any

import torch
from tqdm.auto import tqdm

from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.store.checkpoint import list_checkpoints, open_latest
from gankit.store.rundir import RunFolder
from gankit.training.steps import StepStats
from gankit.training.team import Solo
from gankit.training.trainer import Trainer


class TrainingDiverged(GankitError):
    """A loss or a weight became NaN or infinite; the last finite checkpoint is kept."""


class DivergenceGuard:
    def __init__(self, trainer: Trainer, folder: RunFolder, team: Solo | None = None) -> None:
        self.trainer = trainer
        self.folder = folder
        self.team = team or Solo()
        # Ranks that hold a slice of a population never stop on their own members' account:
        # they mark them, and check_team stops every rank once no member survives anywhere.
        self.local_slice = self.team.mode == "members"
        self.previous: StepStats | None = None
        self.rollbacks = 0

    def _diverged(self, step: int, what: str, last: StepStats | None) -> TrainingDiverged:
        before = ""
        if last is not None:
            floats = MemberMetrics(last.per_member())
            before = (f"; at step {step - 1}: d_loss {floats.value('d_loss'):.4g}, "
                      f"g_loss {floats.value('g_loss'):.4g}")
        kept = list_checkpoints(self.folder.checkpoints)
        where = f"the last good checkpoint is {kept[-1]}" if kept else "no checkpoint was written"
        return TrainingDiverged(f"training diverged at step {step}: {what}{before}; {where}")

    def check_losses(self, step: int, stats: StepStats) -> None:
        """Raise on a non-finite loss of a single run or of the last surviving members."""
        broken = ~torch.isfinite(stats.d_loss + stats.g_loss).cpu()
        if self.team.mode == "ddp":  # one GAN over all ranks: a non-finite loss anywhere counts
            broken = torch.tensor([self.team.any(bool(broken.any()))])
        new = broken & ~self.trainer.diverged
        if new.any():
            first = int(new.nonzero()[0])
            net = "d_loss" if not torch.isfinite(stats.d_loss[first]) else "g_loss"
            what = f"{net} is {float(getattr(stats, net)[first])}"
            if self.trainer.members == 1 and not self.local_slice:
                raise self._diverged(step, what, self.previous)
            self.trainer.mark_diverged(new)
            if self.trainer.diverged.all() and not self.local_slice:
                raise self._diverged(step, f"every member has diverged (last: {what})", None)
            tqdm.write(f"gankit: member(s) {new.nonzero().flatten().tolist()} diverged at step {step} "
                       f"({what}); they are left out of the statistics, the other members train on")
        self.previous = stats

    def check_weights(self) -> None:
        """Before a checkpoint: never let one replace a good one with broken weights."""
        bad, network = self.trainer.nonfinite_members()
        unmarked = [i for i in bad if not self.trainer.diverged[i]]
        if not unmarked:
            return
        if self.local_slice or len(unmarked) + int(self.trainer.diverged.sum()) < self.trainer.members:
            self.trainer.mark_diverged(unmarked)
            tqdm.write(f"gankit: member(s) {unmarked} diverged by step {self.trainer.step_count} "
                       f"(non-finite {network} weights); the other members train on")
            return
        raise self._diverged(self.trainer.step_count, f"the {network}'s weights are not finite", None)

    def check_team(self, step: int) -> None:
        """Ranks holding slices of a population: stop all of them once every member has diverged."""
        if self.local_slice and not self.team.any(not bool(self.trainer.diverged.all())):
            raise self._diverged(step, "every member has diverged", None)

    def roll_back(self, diverged: TrainingDiverged) -> bool:
        """Return to the last good checkpoint with smaller learning rates, if the config allows
        another rollback; returns whether it did."""
        t = self.trainer.config.train
        if t.on_divergence != "rollback" or self.rollbacks >= t.max_rollbacks:
            return False
        self.rollbacks += 1
        # The rates that diverged, not the checkpoint's: a checkpoint written before the last
        # rollback holds the older, larger rates, and retrying with those would repeat it.
        lr_g, lr_d = self.trainer.learning_rates
        state: dict[str, Any] = open_latest(self.folder.checkpoints)
        self.trainer.load_state_dict(state["trainer"])
        self.trainer.set_learning_rates(lr_g * t.rollback_lr_factor, lr_d * t.rollback_lr_factor)
        self.previous = None
        lr_g, lr_d = self.trainer.learning_rates
        tqdm.write(f"gankit: {diverged}. Rolled back to step {self.trainer.step_count}; learning rates "
                   f"now G {lr_g:.3g}, D {lr_d:.3g}")
        return True

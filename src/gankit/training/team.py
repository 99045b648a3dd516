"""What the training step asks of the processes it runs in: one process answers every call with
the identity (:class:`Solo`); ``torchrun`` ranks (:class:`gankit.session.distributed.Team`) share
out rows, average gradients and gather members. The step sees only this interface."""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics


class Solo:
    """One process: every collective is the identity."""

    rank, size, mode = 0, 1, "single"
    # Whether a lone member must be computed as in a population (a rank holding one member of
    # several): the networks then pad it with a blank second member, see StackedLinear.
    pads_lone_member = False

    @property
    def writes(self) -> bool:
        return self.rank == 0

    @property
    def data_ranks(self) -> int:
        """How many ranks share one global batch (data-parallel training)."""
        return self.size if self.mode == "ddp" else 1

    def local_config(self, config: Any) -> Any:
        return config

    def gather_metrics(self, record: MemberMetrics) -> MemberMetrics:
        return record

    def full_state(self, trainer: Any) -> dict[str, Any]:
        return trainer.state_dict()

    def local_state(self, state: dict[str, Any], trainer: Any) -> dict[str, Any]:
        return state

    def any(self, flag: bool) -> bool:
        return flag

    def agree(self, error: str | None) -> None:
        """Raise ``error`` (a GankitError message) on every rank if any rank has one."""
        if error is not None:
            raise GankitError(error)

    def share(self, x: torch.Tensor) -> torch.Tensor:
        """This rank's rows of a global batch ``[members, batch, ...]``."""
        return x

    def average(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    def average_values(self, values: dict[str, list[float]]) -> dict[str, list[float]]:
        """Logged per-member numbers, averaged over data-parallel ranks (as they are otherwise)."""
        return values

    def reporting_loss(self) -> contextlib.AbstractContextManager:
        """Training, guarded so that losing another rank can still be reported: nothing to
        lose in one process."""
        return contextlib.nullcontext()

    def close(self) -> None:
        pass

"""What one training step hands on: the two gradient phases' results and the iteration's stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch


class DStep(NamedTuple):
    """One discriminator phase: its loss per member, the logits, each penalty's value, and the
    flat gradient of D's parameters."""

    loss: torch.Tensor  # [members]
    real_logits: torch.Tensor  # [members, rows]
    fake_logits: torch.Tensor  # [members, rows]
    terms: dict[str, torch.Tensor]  # each penalty's unweighted [members] value
    grad: torch.Tensor  # flat, in flatten_parameters' order


class GStep(NamedTuple):
    """One generator phase: its loss per member and the flat gradient of G's parameters."""

    loss: torch.Tensor
    grad: torch.Tensor


@dataclass
class StepStats:
    """Per-member tensors from the last iteration; turned into numbers only when logged."""

    d_loss: torch.Tensor  # [members]
    g_loss: torch.Tensor  # [members]
    real_logits: torch.Tensor  # [members, rows]
    fake_logits: torch.Tensor  # [members, rows]
    terms: dict[str, torch.Tensor] = field(default_factory=dict)  # each regulariser's [members] value

    def per_member(self) -> dict[str, list[float]]:
        return {
            "d_loss": self.d_loss.tolist(),
            "g_loss": self.g_loss.tolist(),
            "d_real": torch.sigmoid(self.real_logits).mean(-1).tolist(),
            "d_fake": torch.sigmoid(self.fake_logits).mean(-1).tolist(),
            **{name: value.tolist() for name, value in self.terms.items()},
        }

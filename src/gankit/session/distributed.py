"""More than one process, with PyTorch's own engine: ranks started by ``torchrun``.

Two ways to split the work, chosen by the run's population size:

- **members** (``--seeds N`` with N > 1): rank r trains a contiguous slice of the members.
  Members never interact, so the result equals the single-process run bit for bit on CPU. Rank 0
  gathers each logged row's values and each checkpoint's state, so the run folder is exactly the
  one a single process writes (any number of ranks can resume it).
- **data parallel** (``--seeds 1``): every rank holds the same GAN and draws the same global
  batch from the same streams, then works on its own share of the rows; gradients are averaged
  over ranks before each Adam step. Parameters stay identical on every rank and equal the
  single-process run up to the order of floating-point sums; checkpoints are single-process
  checkpoints.

A :class:`Team` is what the session, the observers and the training step talk to;
:class:`gankit.training.team.Solo` is the single process, where every call is the identity. A rank
that dies makes every collective of the others fail (gloo notices the closed connection at once,
and gives up after ``TIMEOUT_S`` otherwise); the session turns that into one line naming the
last checkpoint, and :meth:`Team.reporting_loss` keeps torchrun's SIGTERM from cutting it off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from gankit.config import Config
from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.training.team import Solo

TIMEOUT_S = 60  # how long a rank waits in a collective for a rank that stopped answering


class Team(Solo):
    """Ranks of a ``torchrun`` job; see the module docstring for the two modes."""

    def __init__(self, config: Config) -> None:
        self.size = int(os.environ["WORLD_SIZE"])
        self.rank = int(os.environ["RANK"])
        self.members = config.seeds
        self.mode = "members" if config.seeds > 1 else "ddp"
        if self.mode == "members" and config.seeds < self.size:
            raise GankitError(f"--seeds {config.seeds} is fewer than the {self.size} ranks: give every "
                              "rank at least one member (or use --seeds 1 for data-parallel training)")
        if self.mode == "ddp":
            share, pack = config.train.batch_size / self.size, config.model.pack
            if share != int(share) or int(share) % pack:
                raise GankitError(f"train.batch_size {config.train.batch_size} must split evenly over "
                                  f"{self.size} ranks in multiples of model.pack ({pack})")
        if config.train.max_seconds > 0:
            raise GankitError("train.max_seconds (a time budget) is for one process: ranks would stop "
                              "at different steps; under torchrun give train.steps")
        if config.train.on_divergence == "rollback":
            raise GankitError("train.on_divergence = 'rollback' is for one process; under torchrun "
                              "use 'stop' and resume from the last checkpoint")
        device = torch.device(config.device)
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                    timeout=timedelta(seconds=TIMEOUT_S))
        base, extra = divmod(config.seeds, self.size)
        self.counts = [base + (r < extra) for r in range(self.size)] if self.mode == "members" else []
        self.start = sum(self.counts[: self.rank])
        self.lost = False  # a collective failed: another rank of the job is gone

    @contextlib.contextmanager
    def _collective(self) -> Iterator[None]:
        """Every collective runs in here, so that a failed one marks the rank as having lost another."""
        try:
            yield
        except RuntimeError:
            self.lost = True
            raise

    @contextlib.contextmanager
    def reporting_loss(self) -> Iterator[None]:
        """Training, with SIGTERM kept from ending a rank that lost another before it has said so.

        When a rank dies, torchrun sends SIGTERM to the others at once (and SIGKILL 30 s later).
        A rank that has met the broken collective by then is on its way out to its one line on
        stderr, past the training loop's own handler; SIGTERM's default action would end it
        there without a word. From the moment a collective fails, this block's handler absorbs
        one SIGTERM (torchrun sends one), inside the block and after it, and then puts the
        previous handler back. Any other SIGTERM does what it did before.
        """
        previous = signal.getsignal(signal.SIGTERM)
        if threading.current_thread() is not threading.main_thread() or previous is None:
            yield  # handlers are the main thread's; None: a handler Python did not install
            return

        def on_sigterm(number: int, frame: Any) -> None:
            if self.lost:  # torchrun is ending the job this rank is already leaving
                signal.signal(number, previous)
            elif callable(previous):
                previous(number, frame)
            elif previous != signal.SIG_IGN:  # the default action: end now, as without this block
                signal.signal(number, previous)
                signal.raise_signal(number)

        signal.signal(signal.SIGTERM, on_sigterm)
        try:
            yield
        finally:
            if not self.lost:
                signal.signal(signal.SIGTERM, previous)

    @property
    def pads_lone_member(self) -> bool:  # type: ignore[override]
        """A rank holding one member of a population computes it as the population would."""
        return self.mode == "members"

    def local_config(self, config: Config) -> Config:
        """The members this rank trains: seeds seed + start .. seed + start + count - 1."""
        if self.mode == "ddp":
            return config
        return dataclasses.replace(config, seed=config.seed + self.start, seeds=self.counts[self.rank])

    def gather_metrics(self, record: MemberMetrics) -> MemberMetrics:
        """Rank 0 gets every member's values in member order (the others get their own back)."""
        if self.mode == "ddp":
            return record
        parts: list[Any] = [None] * self.size
        with self._collective():
            dist.all_gather_object(parts, (record.values, record.left_out))
        values = {k: [v for part in parts for v in part[0][k]] for k in record.values}
        return MemberMetrics(values, [flag for part in parts for flag in part[1]])

    def full_state(self, trainer: Any) -> dict[str, Any]:
        """The whole population's state, as one process holding every member would save it."""
        state = trainer.state_dict()
        if self.mode == "ddp":
            return state
        parts: list[Any] = [None] * self.size
        with self._collective():
            dist.all_gather_object(parts, state)
        return join_states(parts, trainer)

    def local_state(self, state: dict[str, Any], trainer: Any) -> dict[str, Any]:
        """This rank's members out of a whole population's state (from any number of ranks)."""
        if self.mode == "ddp":
            return state
        return slice_state(state, trainer, self.start, self.counts[self.rank])

    def any(self, flag: bool) -> bool:
        """Whether any rank says yes: a signal or a divergence seen by one rank stops them all."""
        value = torch.tensor([int(flag)])
        with self._collective():
            dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def agree(self, error: str | None) -> None:
        errors: list[Any] = [None] * self.size
        with self._collective():
            dist.all_gather_object(errors, error)
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise GankitError(first)

    def share(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode != "ddp":
            return x
        rows = x.shape[1] // self.size
        return x[:, self.rank * rows:(self.rank + 1) * rows]

    def average(self, tensor: torch.Tensor) -> torch.Tensor:
        """The mean over ranks of a data-parallel job (gradients, logged losses); the identity
        when ranks hold different members."""
        if self.mode != "ddp":
            return tensor
        with self._collective():
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.div_(self.size)

    def average_values(self, values: dict[str, list[float]]) -> dict[str, list[float]]:
        if self.mode != "ddp":
            return values
        return {key: self.average(torch.tensor(v)).tolist() for key, v in values.items()}

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


def team_for(config: Config) -> Solo:
    """A Team when started by torchrun with more than one rank, else Solo."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return Team(config)
    return Solo()


def _per_member_sizes(network: torch.nn.Module) -> list[int]:
    return [p[0].numel() for p in network.parameters()]


def _split_flat(flat: torch.Tensor, sizes: list[int], members: int) -> list[torch.Tensor]:
    """A flat buffer over parameters ``[members, ...]`` as one ``[members, size]`` view each."""
    return [chunk.view(members, size) for chunk, size in zip(flat.split([members * s for s in sizes]), sizes)]


MEMBER_LISTS = ("samplers", "noise_rng")
NETWORKS = ("generator", "discriminator", "ema_generator")
OPTIMIZERS = (("opt_g", "generator"), ("opt_d", "discriminator"))


def join_states(parts: list[dict[str, Any]], trainer: Any) -> dict[str, Any]:
    """Concatenate per-rank states (each a slice of members, in rank order) into one."""
    counts = [int(p["members"]) for p in parts]
    joined = dict(parts[0])
    joined["members"] = sum(counts)
    for net in NETWORKS:
        if parts[0].get(net) is not None:
            joined[net] = {k: torch.cat([p[net][k] for p in parts]) for k in parts[0][net]}
    for key in MEMBER_LISTS:
        joined[key] = [item for p in parts for item in p[key]]
    joined["diverged"] = torch.cat([p["diverged"] for p in parts])
    for opt, net in OPTIMIZERS:
        sizes = _per_member_sizes(getattr(trainer, net))
        joined[opt] = dict(parts[0][opt])
        for buffer in ("exp_avg", "exp_avg_sq"):
            pieces = [_split_flat(p[opt][buffer], sizes, c) for p, c in zip(parts, counts)]
            joined[opt][buffer] = torch.cat([torch.cat([piece[j] for piece in pieces]).flatten()
                                             for j in range(len(sizes))])
    return joined


def slice_state(state: dict[str, Any], trainer: Any, start: int, count: int) -> dict[str, Any]:
    """Members ``start .. start + count - 1`` of a population's state."""
    total = int(state["members"])
    if start + count > total:
        raise GankitError(f"the checkpoint holds {total} members, this rank needs members "
                          f"{start} to {start + count - 1}")
    part = dict(state)
    part["members"] = count
    for net in NETWORKS:
        if state.get(net) is not None:
            part[net] = {k: v[start:start + count].clone() for k, v in state[net].items()}
    for key in MEMBER_LISTS:
        part[key] = state[key][start:start + count]
    part["diverged"] = state["diverged"][start:start + count].clone()
    for opt, net in OPTIMIZERS:
        sizes = _per_member_sizes(getattr(trainer, net))
        part[opt] = dict(state[opt])
        for buffer in ("exp_avg", "exp_avg_sq"):
            pieces = _split_flat(state[opt][buffer], sizes, total)
            part[opt][buffer] = torch.cat([piece[start:start + count].flatten() for piece in pieces])
    return part

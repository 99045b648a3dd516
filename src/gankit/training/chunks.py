"""A population's step a few members at a time: the same bits, chosen by a probe at the start.

A 64-member step of the default preset moves ``[64, 512, 128]`` activations through memory
several times (forward, ELU, backward); a single member's fit in the core's cache. Here the
hand-written path (:class:`~gankit.training.manual.ManualPath`) runs over slices of the
members (the stacked weights' first dimension), each chunk's forward and backward back to back,
optionally on two worker threads that take chunks as they come free (a busy core takes fewer).
Each member's arithmetic is unchanged: the same kernels on the same per-member rows, so every
member's gradient is the unchunked run's bit for bit (``tests/unit/test_chunks.py``). Two
guards keep it so: no chunk of one member (a lone one-output layer takes another kernel), and
chunking only where every elementwise tensor has a multiple of 64 entries per member (a
vectorised kernel's scalar tail then never falls inside a member).

Which way is fastest depends on the machine, its load and the sizes. Since every way gives the
same bits, the probe is the run's own first iterations: each candidate computes a few of them
in turn, timed, and the fastest median is kept for the rest of the run (two threads must win by
10%; a resumed run probes again);
``population_record`` is what the run folder's ``run.json`` records.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch

from gankit.training.manual import ManualPath
from gankit.training.steps import DStep, GStep

ALIGN = 64  # entries per member of every elementwise tensor, for chunking to keep the bits
MIN_MEMBERS = 4  # fewer members are never chunked
PROBE_ROUNDS = 3  # iterations timed per candidate plan (their median counts)
THREAD_MARGIN = 1.1  # a plan on two threads must beat the others' medians by 10%: loads change


@dataclass(frozen=True)
class Plan:
    chunk: int | None  # members per chunk; None: all members at once
    workers: int = 1

    @property
    def label(self) -> str:
        return "whole" if self.chunk is None else f"chunks of {self.chunk}, {self.workers} thread(s)"


def member_slices(members: int, chunk: int) -> list[slice]:
    """Consecutive slices of ``chunk`` members; a last slice of one member joins the one before."""
    starts = list(range(0, members, chunk))
    if len(starts) > 1 and members - starts[-1] == 1:
        starts.pop()
    return [slice(a, b) for a, b in zip(starts, [*starts[1:], members])]


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class MemberChunks:
    """The hand-written path over chunks of members, an implementation of
    :class:`gankit.training.gradients.GradientPath`. ``choice`` is ``"auto"`` (probe at the
    first step) or ``"whole"`` (never chunk)."""

    name = "hand-written"

    def __init__(self, path: ManualPath, members: int, device: torch.device, choice: str = "auto") -> None:
        self.path, self.members = path, members
        self.plan: Plan | None = None
        self.record: dict[str, Any] = {"members": members}
        self._pool: ThreadPoolExecutor | None = None
        self._trial: list[Plan] | None = None  # the plans of the probe's iterations still to come
        self._times: dict[Plan, list[float]] = {}
        self._started: float | None = None
        reason = None
        if choice == "whole":
            reason = "asked for (train.population = whole)"
        elif members < MIN_MEMBERS:
            reason = f"fewer than {MIN_MEMBERS} members"
        elif device.type != "cpu":
            reason = "not on the CPU"
        if reason is not None:
            self._settle(Plan(None), reason=reason)

    # -- the gradient path -------------------------------------------------------------------

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> DStep:
        if self.plan is None and self._trial is None:
            self._begin_trials(real, fake)
        if self._trial is not None and self._started is None:
            self._started = time.perf_counter()
        return self._d(real, fake, self._current())

    def g_step(self, z: torch.Tensor, real: torch.Tensor) -> GStep:
        out = self._g(z, real, self._current())
        if self._trial is not None and self._started is not None:
            self._end_trial(time.perf_counter() - self._started)
        return out

    def _current(self) -> Plan:
        if self.plan is not None:
            return self.plan
        return self._trial[0] if self._trial else Plan(None)

    def _map(self, plan: Plan, work: Any, slices: list[slice]) -> list[Any]:
        if plan.workers == 1:
            return [work(s) for s in slices]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(plan.workers, thread_name_prefix="gankit-members")
        return list(self._pool.map(work, slices))

    def _chunked(self, plan: Plan, size: int, like: torch.Tensor, phase: Any
                 ) -> tuple[list[Any], torch.Tensor]:
        """``phase(members, flat)`` on each chunk of ``plan``, every chunk writing its members'
        gradients into one population buffer of ``size`` values: the parts and the buffer."""
        flat = torch.empty(size, dtype=like.dtype, device=like.device)
        parts = self._map(plan, lambda s: phase(s, flat), member_slices(self.members, plan.chunk))
        return parts, flat

    def _d(self, real: torch.Tensor, fake: torch.Tensor, plan: Plan) -> DStep:
        if plan.chunk is None:
            return self.path.d_step(real, fake)
        parts, flat = self._chunked(plan, self.path.d.size, real,
                                    lambda s, flat: self.path.d_step(real[s], fake[s], s, flat))
        return DStep(torch.cat([p.loss for p in parts]), torch.cat([p.real_logits for p in parts]),
                     torch.cat([p.fake_logits for p in parts]), {}, flat)

    def _g(self, z: torch.Tensor, real: torch.Tensor, plan: Plan) -> GStep:
        if plan.chunk is None:
            return self.path.g_step(z, real)
        parts, flat = self._chunked(plan, self.path.g.size, z,
                                    lambda s, flat: self.path.g_step(z[s], real[s], s, flat))
        return GStep(torch.cat([p.loss for p in parts]), flat)

    # -- the probe: the run's own first iterations, each candidate in turn ----------------------

    def _aligned(self, real: torch.Tensor, fake: torch.Tensor) -> bool:
        """Whether every elementwise tensor of both phases has a multiple of ALIGN entries per
        member (the rows times each activated layer's width, and the logits)."""
        rows_d, rows_fake = real.shape[1] + fake.shape[1], fake.shape[1]
        rows_g = rows_fake * self.path.pack
        counts = [real.shape[1], rows_fake, rows_d]
        for rows, mlp in ((rows_d, self.path.d), (rows_fake, self.path.d), (real.shape[1], self.path.d),
                          (rows_g, self.path.g)):
            counts += [rows * layer.linear.out_features for layer in mlp.layers if layer.activation]
        return all(n % ALIGN == 0 for n in counts)

    def candidates(self) -> list[Plan]:
        """All at once, and chunks of the two largest of 2, 4 and 8 members that make two chunks
        at least, on one thread and, with a second core and torch on a single thread, on two."""
        workers = [1, 2] if _cores() >= 2 and torch.get_num_threads() == 1 else [1]
        sizes = [k for k in (2, 4, 8) if k <= self.members // 2][-2:]
        return [Plan(None)] + [Plan(k, w) for k in sizes for w in workers]

    def _begin_trials(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """Every plan gives the same bits, so the probe is training itself: the first
        ``PROBE_ROUNDS`` x candidates iterations each run one plan, in rotating order, timed; the
        fastest median wins (two threads by a margin)."""
        if not self._aligned(real, fake):
            self._settle(Plan(None), reason=f"rows x widths not multiples of {ALIGN} per member")
            return
        plans = self.candidates()
        self._trial = [plan for r in range(PROBE_ROUNDS)
                       for plan in plans[r % len(plans):] + plans[:r % len(plans)]]
        self._times = {plan: [] for plan in plans}

    def _end_trial(self, seconds: float) -> None:
        assert self._trial
        plan = self._trial.pop(0)
        self._times[plan].append(seconds)
        self._started = None
        if not self._trial:
            median = {p: statistics.median(t) for p, t in self._times.items()}
            choice = min(median, key=lambda p: median[p] * (THREAD_MARGIN if p.workers > 1 else 1.0))
            self._settle(choice, probe_ms={p.label: round(t * 1e3, 2) for p, t in median.items()},
                         probe_steps=PROBE_ROUNDS * len(median))

    def _settle(self, plan: Plan, **fields: Any) -> None:
        self.plan, self._trial = plan, None
        if plan.workers == 1 and self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.record = {"members": self.members, "chunk": plan.chunk, "workers": plan.workers, **fields}


def population_record(gradients: Any, members: int) -> dict[str, Any] | None:
    """What ``run.json`` says of how a population's step was computed (None for one member)."""
    if members < 2:
        return None
    if isinstance(gradients, MemberChunks):
        return dict(gradients.record)
    return {"members": members, "chunk": None, "workers": 1,
            "reason": f"the {getattr(gradients, 'name', type(gradients).__name__)} path computes "
                      "all members at once"}

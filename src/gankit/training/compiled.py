"""The step's gradient phases through ``torch.compile`` (``train.compile = true``, ``--compile``).

A small GAN's step is a few dozen small kernels, each a pass over memory; a 64-member default
step is memory-bound (its ELU alone a third of the time). TorchInductor fuses the elementwise
work into a few loops of generated C++, at a price paid once per process: tracing and compiling
the two phases takes 23-52 s on 2 CPU cores. ``benchmarks/compile_step.py`` measures both and
the break-even step count: on 2 cores the fused 64-member default step is about 1.3x the eager
step taken all members at once, but no faster than the eager step in chunks of members that
:mod:`gankit.training.chunks` picks; one member gains nothing, and the digits' dcgan step is
slower compiled (0.7x). So it stays opt-in, off in every preset.

What is compiled: the ``d_step`` and ``g_step`` of the path :class:`~gankit.training.trainer.
Trainer` chose (:class:`~gankit.training.manual.ManualPath` or
:class:`~gankit.training.gradients.AutogradPath`), whole. The hand-written path has no autograd
in it and compiles as one graph per phase; on the autograd path Dynamo compiles the forward and
the loss with their backward (AOTAutograd), and ``torch.autograd.grad`` runs that compiled
backward. Both population paths (stacked weights and ``torch.vmap``) trace. A population the
hand-written path would take in chunks of members (:mod:`gankit.training.chunks`) is compiled
whole instead: fusion does what chunking does (activations that stay in cache), and the chunks'
probe is timing and threads, Python that must not be traced. The optimiser, the
streams and evaluation stay eager; the weights are graph inputs (views of the flat buffers that
:class:`~gankit.training.optim.FlatAdam` updates in place), never constants.

Rounding: fused kernels sum and multiply in another order than eager ATen, so a compiled run
does not give eager's bits; after a few steps the weights agree to about 1e-6 of their scale,
and, a GAN's training being chaotic, drift apart further with time as any two float orders do
(``tests/unit/test_compiled.py`` states the tolerance). ``train.compile = false`` is the
reference.

Refused, in one line before any step: no C++ compiler for Inductor on the CPU (it compiles the
generated kernels with ``g++`` or ``$CXX``), and penalties that need a gradient of a gradient
(R1, R2, GP), whose double backward AOTAutograd does not support. A run asked to compile is
never silently run eager: its ``config.toml`` says ``compile = true`` and its timings should
mean that.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

from gankit.core.errors import GankitError
from gankit.objectives import Regulariser
from gankit.training.chunks import MemberChunks
from gankit.training.gradients import GradientPath
from gankit.training.steps import DStep, GStep

Phase = TypeVar("Phase", bound=Callable[..., Any])


def cpp_compiler() -> str | None:
    """The C++ compiler TorchInductor would use on the CPU, or None where none is installed.

    Inductor searches ``torch._inductor.config.cpp.cxx`` (``$CXX``, else ``g++``; ``clang++`` on
    macOS); a ``None`` entry there means a compiler fetched by conda, only when
    ``TORCH_INDUCTOR_INSTALL_GXX`` is set, which this check leaves to Inductor itself.
    """
    for name in _candidates():
        if name is None:
            if os.environ.get("TORCH_INDUCTOR_INSTALL_GXX"):
                return "conda's g++"
            continue
        found = shutil.which(name)
        if found:
            return found
    return None


def _candidates() -> tuple[str | None, ...]:
    try:
        from torch._inductor import config as inductor_config

        return tuple(inductor_config.cpp.cxx)
    except (ImportError, AttributeError, TypeError):  # a private module: fall back to its rule
        return (os.environ.get("CXX", "clang++" if sys.platform == "darwin" else "g++"),)


def _searched() -> str:
    return " or ".join(f"'{name}'" for name in _candidates() if name is not None)


def check_compilable(device: torch.device, regularisers: Sequence[tuple[Regulariser, float]]) -> None:
    """Refuse, in one line, a run whose step ``torch.compile`` cannot compile here."""
    double = [term.name for term, _ in regularisers if term.penalty is not None]  # R1, R2, GP
    if double:
        raise GankitError(f"train.compile cannot compile the penalty {', '.join(double)}: it needs a "
                          "gradient of a gradient, which torch.compile does not support; train "
                          "without --compile")
    if device.type == "cpu" and cpp_compiler() is None:
        raise GankitError(f"train.compile needs a C++ compiler on the CPU and {_searched()} was not "
                          "found: install one (e.g. apt install g++), or name it in $CXX, or train "
                          "without --compile")


class CompiledPath:
    """A :class:`~gankit.training.gradients.GradientPath` whose two phases are another path's,
    compiled by ``torch.compile``; the first call of each compiles it (tens of seconds)."""

    def __init__(self, path: GradientPath, backend: str = "inductor") -> None:
        self.path = path
        self.name = f"{path.name}, compiled"
        self._d_step = _compiled(path.d_step, backend)
        self._g_step = _compiled(path.g_step, backend)

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> DStep:
        return self._d_step(real, fake)

    def g_step(self, z: torch.Tensor, real: torch.Tensor) -> GStep:
        return self._g_step(z, real)


def _compiled(phase: Phase, backend: str) -> Phase:
    """``phase`` through ``torch.compile``, a compiler that fails turned into one line."""
    compiled = torch.compile(phase, backend=backend, dynamic=False)

    def run(*args: torch.Tensor) -> Any:
        try:
            return compiled(*args)
        except Exception as error:  # only a missing compiler is translated; the rest as raised
            if _missing_compiler(error):
                raise GankitError(f"train.compile: torch.compile found no working C++ compiler "
                                  f"({_root(error)}); install one (e.g. apt install g++), or name it "
                                  "in $CXX, or train without --compile") from error
            raise

    return run  # type: ignore[return-value]


def _missing_compiler(error: BaseException) -> bool:
    return any(type(e).__name__ == "InvalidCxxCompiler" for e in _chain(error))


def _root(error: BaseException) -> str:
    root = _chain(error)[-1]
    return str(root).splitlines()[0] if str(root) else type(root).__name__


def _chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = [error]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) is not None and len(chain) < 20:
        chain.append(cause)
    return chain


def compiled_path(path: GradientPath, device: torch.device, regularisers: Sequence[tuple[Regulariser, float]],
                  backend: str = "inductor") -> CompiledPath:
    """``path`` with its phases compiled, after :func:`check_compilable`; the Trainer's hook."""
    check_compilable(device, regularisers)
    return CompiledPath(path, backend)


Builder = TypeVar("Builder", bound=Callable[[Any], Any])


def compile_when_asked(build: Builder) -> Builder:
    """The Trainer's hook: the path ``build(trainer)`` chooses, compiled when
    ``train.compile = true``. A decorator, so that choosing a path and compiling it stay apart:
    whatever ``Trainer._gradient_path`` picks (and however it changes) is what gets compiled."""

    @functools.wraps(build)
    def choose(trainer: Any) -> Any:
        path = build(trainer)
        if not trainer.config.train.compile:
            return path
        if isinstance(path, MemberChunks):
            # Chunks of members keep activations in cache, which fusion does instead; and the
            # chunks' probe (timing, threads) is Python that must not be traced. All at once.
            path = path.path
        return compiled_path(path, trainer.device, trainer.regularisers)

    return choose  # type: ignore[return-value]

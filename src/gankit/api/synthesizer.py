"""``gankit.Synthesizer``: ``fit`` / ``sample`` / ``save`` / ``load`` over :func:`gankit.train`, for
those who think in estimators (CTGAN's ``fit(df)`` / ``sample(n)``, SDV's ``save`` / ``load``).

It adds no training path of its own: ``fit`` is one :func:`~gankit.api.training.train` call (a
run folder, the same loop), ``sample`` is :meth:`Run.sample`, and ``save`` / ``load`` are
:func:`gankit.api.artifact.export` / :func:`gankit.api.artifact.load` (one file, loaded without
running code). The underlying :class:`~gankit.api.run.Run` is ``.run``.

    synth = gankit.Synthesizer(steps=2000, out="runs/penguins").fit(frame)
    rows = synth.sample(1000, seed=0)           # a DataFrame with the frame's columns
    synth.save("penguins.gankit")
    again = gankit.Synthesizer.load("penguins.gankit")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gankit.core.errors import GankitError

if TYPE_CHECKING:
    from gankit.api.run import Run
    from gankit.evaluation.refine import RefineSettings

__all__ = ["Synthesizer"]


class Synthesizer:
    """A GAN that learns one data set: ``Synthesizer(out=None, **train_settings).fit(data)``.

    ``train_settings`` are :func:`gankit.train`'s keywords (``steps``, ``preset``, ``seed``,
    ``overwrite``, ``progress``, ``set={...}``, ...); ``figures`` is False unless given (a
    synthesizer is asked for rows, not pictures; ``Synthesizer(figures=True)`` draws them).
    ``out`` is the run folder (``runs/NAME-TIMESTAMP`` by default).
    """

    def __init__(self, out: str | Path | None = None, **train_settings: Any) -> None:
        if "data" in train_settings:
            raise TypeError("a Synthesizer is given its data by fit(data), not Synthesizer(data=...)")
        self.out = out
        self.train_settings = {"figures": False, **train_settings}
        self.run: Run | None = None  # the trained run, once fitted or loaded

    def __repr__(self) -> str:
        where = f"run {self.run.path}" if self.run is not None else "not fitted"
        return f"Synthesizer({where})"

    def fit(self, data: Any) -> Synthesizer:
        """Train on ``data``: a pandas DataFrame, a NumPy array (2-D: a table; 3-D/4-D: images),
        or a dataset name or path as ``gankit train --data`` takes. Returns ``self``."""
        from gankit.api.training import train

        self.run = train(data=data, out=self.out, **self.train_settings)
        return self

    def _fitted(self) -> Run:
        if self.run is None:
            raise GankitError("this Synthesizer has not learned anything yet: call fit(data) first, "
                              "or Synthesizer.load(file)")
        return self.run

    def sample(self, n: int, seed: int | None = None, refine: str | RefineSettings | None = None) -> Any:
        """``n`` generated rows in the data's own form (a DataFrame for a table, uint8 images
        ``[n, H, W(, C)]``), reproducible with ``seed``; ``refine`` (``"drs"``, ``"mh"`` or a
        :class:`~gankit.evaluation.refine.RefineSettings`) lets the discriminator select them."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise GankitError(f"sample(n): n must be a whole number of at least 1, got {n!r}")
        return self._fitted().sample(n, seed, refine=refine)

    def save(self, file: str | Path) -> Path:
        """The trained model as one file (:func:`gankit.api.artifact.export`); returns its path."""
        from gankit.api.artifact import export

        return export(self._fitted(), file)

    @classmethod
    def load(cls, file: str | Path, device: str | None = None) -> Synthesizer:
        """A synthesizer from a file :meth:`save` wrote (:func:`gankit.api.artifact.load`), ready
        to sample; no code in the file runs."""
        from gankit.api.artifact import load

        synthesizer = cls()
        synthesizer.run = load(file, device=device)
        return synthesizer

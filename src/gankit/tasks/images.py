"""Images: scikit-learn's bundled handwritten digits (:class:`Digits`, here), and a folder or
array of the user's own (:class:`ImageFolder`, :mod:`gankit.tasks.image_folder`).

What both share (the held-out split, encoding, metrics and figures) is
:class:`gankit.tasks.image_base.ImageTask`; reading and writing files
(:mod:`gankit.tasks.image_io`) and converting pixels (:mod:`gankit.tasks.pixels`) live in their
own modules. These names stay importable from here, where users of the image tasks look for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.tasks.conditions import check_condition_names, name_list
from gankit.tasks.image_base import CLASSIFIER_FILE, ImageSampler, ImageTask, _check_size, arrangement
from gankit.tasks.image_folder import ImageFolder
from gankit.tasks.image_io import write_pngs
from gankit.tasks.pixels import decode_to_uint8, encode_uint8, grid, upscale
from gankit.tasks.saved import check_saved

__all__ = ["Digits", "ImageFolder", "ImageSampler", "ImageTask", "arrangement", "decode_to_uint8",
           "encode_uint8", "grid", "write_pngs"]


@dataclass
class Digits(ImageTask):
    """scikit-learn's bundled handwritten digits (UCI optdigits test set): 1,797 grayscale 8x8
    images of the digits 0-9, ink bright on black, 17 grey levels (0-16, scaled to 0-255).
    ``size`` 16 or 32 upscales them bilinearly (for architectures that want larger images)."""

    size: int = 8
    holdout: float = 0.4
    condition: tuple[str, ...] = ()  # ("class",): G draws the digit it is asked for

    name = "digits"
    preset = "digits"

    def __post_init__(self) -> None:
        from sklearn.datasets import load_digits

        _check_size(self.size, (8, 16, 32))
        bunch = load_digits()
        order = arrangement(len(bunch.images), self.holdout)
        pixels = np.rint(bunch.images[order] * (255 / 16)).astype(np.uint8)[:, None]
        self.images = upscale(pixels, self.size)
        self.labels = bunch.target[order].astype(np.int64)
        self._native = pixels  # 8x8, what the reference classifier is trained on
        self._classifier_path: Path | None = None
        self.condition = name_list("condition", self.condition)
        check_condition_names(self, self.condition)
        self._split()

    def use_run_folder(self, path: Any) -> None:
        """The reference classifier is kept in the run folder (``reference_classifier.pt``), so
        that a run's metrics stay those of the classifier it started with."""
        self._classifier_path = Path(path) / CLASSIFIER_FILE

    def saved_state(self) -> dict[str, Any]:
        """No images (scikit-learn ships them): the reference classifier the metrics use, what
        an exported run carries so that it scores as its run folder does (the folder keeps it in
        ``reference_classifier.pt``, which is not part of the export)."""
        return {"task": self.name, "params": {"holdout": self.holdout},
                "classifier": self.classifier_state()}

    @classmethod
    def from_saved_state(cls, params: dict[str, Any], state: dict[str, Any]) -> Any:
        """The digits, scored with the saved state's classifier."""
        task = cls(**params)
        check_saved(state, task.name, {"holdout": task.holdout})
        task.adopt_classifier(state)
        return task

    def _make_scorer(self) -> Any:
        from gankit.tasks.image_metrics import Scorer

        train = self.train_index
        classifier = self.trained_classifier(self._native[train], self.labels[train])
        frequencies = np.bincount(self.labels[train], minlength=10) / len(train)
        return Scorer(classifier, self.images[self.reference_index], self.images[self.floor_index],
                      class_frequencies=frequencies)

    def extra_figures(self, fake: np.ndarray, figures_dir: Any,
                      metrics: dict[str, Any] | None = None) -> list[Path]:
        """Besides ``nearest.png``, ``class_hist.png``: the reference classifier's predicted
        classes of the generated images against the real class frequencies."""
        from matplotlib.figure import Figure

        written = super().extra_figures(fake, figures_dir, metrics)
        scorer = self.scorer()
        x = torch.as_tensor(np.nan_to_num(np.asarray(fake, np.float32))).clamp(-1, 1)
        probabilities = scorer.space.probabilities(x)
        share = np.bincount(probabilities.argmax(1), minlength=10) / len(x)
        given = bool(metrics) and "class_kl" in metrics
        m = metrics if given else scorer.metrics(np.asarray(fake))
        fig = Figure(figsize=(6, 3.6))
        ax = fig.subplots()
        ax.bar(np.arange(10) - 0.2, share, width=0.4, color="tab:red", label="generated (predicted class)")
        ax.bar(np.arange(10) + 0.2, scorer.class_frequencies, width=0.4, color="tab:blue",
               label="real (training labels)")
        ax.set_xticks(range(10))
        ax.set_xlabel("digit")
        ax.set_ylabel("share")
        source = "summary.json" if given else "this sample"
        ax.set_title(f"{m['classes_covered']}/10 classes covered, class_kl = {m['class_kl']:.3f} "
                     f"(floor {m['class_kl_floor']:.3f})\nconfidence = {m['confidence']:.3f} ({source})",
                     fontsize=9)
        ax.legend(fontsize=8)
        path = Path(figures_dir) / "class_hist.png"
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        return [*written, path]

    def success(self, metrics: dict[str, float]) -> bool:
        """fd within twice its floor, all 10 classes covered and class_kl at most 0.05."""
        return (metrics["fd"] <= 2 * metrics["fd_floor"] and metrics["classes_covered"] == 10
                and metrics["class_kl"] <= 0.05)

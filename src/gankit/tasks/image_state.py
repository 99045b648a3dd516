"""What a run on the user's images keeps in its run folder (:mod:`gankit.tasks.saved`), so that
sampling, evaluating and plotting work without the image folder or array file.

:class:`SavedImages` gives :class:`gankit.tasks.images.ImageFolder` its saved state: the data
settings (``size``, ``channels``, ``holdout``), the held-out images as uint8 (the metrics' two
halves and the real images of snapshots and calibration) and training images up to
``TRAIN_IMAGE_BYTES`` (all of them when they fit, else a seeded subsample: only the
``nearest.png`` memorisation figure reads them). A folder of classes (first-level sub-folders)
also keeps the kept images' labels, the classes' names and the training images per class (what
G is asked for in proportion, from all of them). The bundled digits keep nothing in the run
folder: scikit-learn ships them.

A conditional run's reference classifier is cached beside it (``reference_classifier.pt``,
trained on all the training images); :meth:`SavedImages.saved_state`, what an exported run
holds, adds its weights, so that the exported run scores its classes with that classifier, not
one retrained on the kept subsample.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from gankit.core.errors import GankitError
from gankit.tasks.saved import STATE_FILE, check_saved, write_saved

TRAIN_IMAGE_BYTES = 16 << 20  # uint8 training images kept: 262,144 8x8 grey ones, 5,461 of 32x32 RGB
SETTINGS = ("size", "channels", "holdout")  # the parameters that decide the images kept


class SavedImages:
    """The saved-state methods of a task holding ``images`` (uint8 ``[N, C, H, W]``, training
    images first) split by ``_split`` (:class:`gankit.tasks.images.ImageTask`)."""

    _saved: dict[str, Any] | None = None  # the state it was built from; None: read from its source

    def saved_state(self) -> dict[str, Any]:
        """The kept images (:meth:`_images_state`, the run folder's ``data.json`` and
        ``data.npz``) and, for a conditional run, the reference classifier its metrics use."""
        task: Any = self
        state = self._images_state()
        if task.condition and "classifier" not in state:
            state = {**state, "classifier": task.classifier_state()}
        return state

    def _images_state(self) -> dict[str, Any]:
        if self._saved is not None:
            return self._saved
        task: Any = self
        train, held = task._train_rows.numpy(), task._held_rows.numpy()
        keep = max(1, TRAIN_IMAGE_BYTES // max(1, train[0].nbytes if len(train) else 1))
        pick = np.arange(len(train))
        if len(train) > keep:
            pick = np.sort(np.random.default_rng(0).choice(len(train), keep, replace=False))
        state = {"task": task.name, "params": {key: getattr(task, key) for key in SETTINGS},
                 "total": len(task.images), "train_images": train[pick], "held_images": held}
        if task.labels is not None:
            state.update(train_labels=task.labels[pick], held_labels=task.labels[len(train):],
                         class_names=list(task.class_names), class_counts=task.class_counts)
        return state

    @classmethod
    def from_saved_state(cls, params: dict[str, Any], state: dict[str, Any]) -> Any:
        """The task of a run folder from its saved state: the images' source is not read."""
        task: Any = cls.__new__(cls)
        for f in dataclasses.fields(task):
            setattr(task, f.name, params.get(f.name, f.default))
        check_saved(state, task.name, {key: getattr(task, key) for key in SETTINGS})
        try:
            train, held = (np.asarray(state[key]) for key in ("train_images", "held_images"))
            total = int(state["total"])
            images = np.concatenate([train, held])
        except (KeyError, TypeError, ValueError) as exc:
            raise GankitError(f"the run folder's saved images ({STATE_FILE}) are incomplete or malformed "
                              f"({type(exc).__name__}: {exc})") from None
        if images.dtype != np.uint8 or images.ndim != 4:
            raise GankitError(f"the run folder's saved images ({STATE_FILE}) are not uint8 [N, C, H, W] "
                              f"images (got {images.dtype} of shape {images.shape})")
        task.images = images
        task._saved = state
        if "held_labels" in state:
            _read_classes(task, state)
        task._split(total)
        task.adopt_classifier(state)
        return task

    def use_run_folder(self, path: Any) -> None:
        """Keep the saved state in the run folder (one that cannot be written needs the source)."""
        if self._saved is None:
            with contextlib.suppress(OSError):
                write_saved(Path(path), self._images_state())


def _read_classes(task: Any, state: dict[str, Any]) -> None:
    """A saved folder's labels (training images kept, then held out), class names and counts."""
    try:
        labels = np.concatenate([np.asarray(state[key], np.int64) for key in ("train_labels", "held_labels")])
        names = tuple(str(name) for name in state["class_names"])
        counts = np.asarray(state["class_counts"], np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise GankitError(f"the run folder's saved classes ({STATE_FILE}) are incomplete or malformed "
                          f"({type(exc).__name__}: {exc})") from None
    if len(labels) != len(task.images) or len(counts) != len(names) or not names or \
            labels.min() < 0 or labels.max() >= len(names):
        raise GankitError(f"the run folder's saved classes ({STATE_FILE}) do not match its images")
    task.labels, task.class_names, task.class_counts = labels, names, counts

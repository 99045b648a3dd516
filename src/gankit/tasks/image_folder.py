"""The user's own images: a folder of image files (``--data DIR/``), or an array in a .npy/.npz
file, and a folder's classes.

A folder whose images sit in first-level sub-folders (torchvision's ``ImageFolder`` convention:
``DIR/cat/*.png``, ``DIR/dog/*.png``; classes sorted by name) keeps each image's class and the
classes' names, and can be trained on request with ``data.condition = ["class"]``
(``--condition-on class``): G and D read the class as the digits do
(:class:`gankit.tasks.image_conditions.ClassConditioned`), and a classifier trained on the
folder's own training labels measures ``conditional_accuracy``. A run keeps the labels and the
names in its folder (:class:`gankit.tasks.image_state.SavedImages`).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gankit.core.errors import GankitError
from gankit.tasks.conditions import check_condition_names, name_list
from gankit.tasks.image_base import CLASSIFIER_FILE, ImageTask, _check_size, arrangement
from gankit.tasks.image_io import (
    ARRAY_SUFFIXES,
    IMAGE_SUFFIXES,
    FolderImages,
    array_shape,
    load_array,
    read_folder,
)
from gankit.tasks.image_state import SavedImages

_LOADED: dict[tuple[Any, ...], FolderImages] = {}  # one load per process: configs build tasks often
NAMED = 3  # loose files named when a conditional run is refused


@dataclass
class ImageFolder(SavedImages, ImageTask):
    """The user's images: ``--data DIR/`` (image files of any format in
    :data:`~gankit.tasks.image_io.IMAGE_SUFFIXES`, recursively) or ``--data FILE.npy``
    / ``FILE.npz`` (an ``[N, H, W]`` or ``[N, H, W, C]`` array). ``size``: the square size
    every image is resized and centre-cropped to; ``channels``: 1 (grayscale), 3 (RGB) or 0
    (from the data: 1 when every image is grayscale); ``condition``: ``["class"]`` to generate
    a class on request, the classes being a folder's first-level sub-folders."""

    path: str = ""
    size: int = 32
    channels: int = 0
    holdout: float = 0.2
    condition: tuple[str, ...] = ()

    name = "images"
    preset = "images"
    figure_points = 16  # a snapshot stores its images in snapshots.jsonl: keep it small

    @classmethod
    def accepts(cls, source: str) -> bool:
        path = Path(source)
        try:
            if path.is_dir():
                return any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.rglob("*"))
            if path.suffix.lower() in ARRAY_SUFFIXES and path.is_file():
                shape = array_shape(path)
                return shape is not None and len(shape) in (3, 4)
        except (OSError, ValueError, zipfile.BadZipFile):
            return False
        return False

    def __post_init__(self) -> None:
        if not self.path:
            raise GankitError("dataset 'images' reads data.path: --data DIR/ (PNG, JPEG, BMP, WebP, TIFF, "
                              "GIF, ... files) or "
                              "--data FILE.npy|FILE.npz (an [N, H, W] or [N, H, W, C] array)")
        _check_size(self.size)
        if self.channels not in (0, 1, 3):
            raise GankitError(f"data.channels must be 0 (from the data), 1 or 3, got {self.channels}")
        self.condition = name_list("condition", self.condition)
        path = Path(self.path)
        if not path.exists():
            raise GankitError(f"data.path '{path}' does not exist")
        # config.toml records the absolute path, so the run folder works from any directory
        path = path.resolve()
        self.path = str(path) + ("/" if path.is_dir() else "")
        key = (str(path), path.stat().st_mtime_ns, self.size, self.channels, self.holdout)
        if key not in _LOADED:
            _LOADED.clear()  # hold one dataset at a time
            read = (read_folder(path, self.size, self.channels) if path.is_dir()
                    else FolderImages(load_array(path, self.size, self.channels), None, ()))
            order = arrangement(len(read.images), self.holdout)
            _LOADED[key] = replace(read, images=read.images[order],
                                   labels=None if read.labels is None else read.labels[order])
        loaded = _LOADED[key]
        self.images, self.labels, self.class_names = loaded.images, loaded.labels, loaded.class_names
        self._check_classes(loaded.top_level)
        self._split()

    def _check_classes(self, top_level: tuple[str, ...] = ()) -> None:
        """Refuse ``data.condition = ["class"]`` on images without classes, saying why."""
        if "class" in self.condition and self.labels is None:
            where = self.path.rstrip("/")
            how = (f"a class-conditional run (data.condition = [\"class\"]) reads each image's class from "
                   f"the first-level sub-folder it sits in ('{where}/cat/*.png', '{where}/dog/*.png')")
            if not self.path.endswith("/"):
                raise GankitError(f"{how}; an array file has no classes")
            if top_level:
                shown = ", ".join(f"'{name}'" for name in top_level[:NAMED])
                more = f" and {len(top_level) - NAMED} more" if len(top_level) > NAMED else ""
                raise GankitError(f"{how}, but {len(top_level)} image file(s) sit directly in '{where}' "
                                  f"({shown}{more}): move them into a class's sub-folder")
            raise GankitError(f"{how}, but '{where}' has no sub-folders of images")
        check_condition_names(self, self.condition)
        if self.condition and self.classes < 2:
            raise GankitError(f"a class-conditional run needs two classes or more; '{self.path}' has one "
                              f"sub-folder of images, '{self.class_names[0]}'")

    @classmethod
    def from_saved_state(cls, params: dict[str, Any], state: dict[str, Any]) -> Any:
        task = super().from_saved_state(params, state)
        task.condition = name_list("condition", task.condition)
        task._check_classes()
        return task

    def use_run_folder(self, path: Any) -> None:
        """The saved state (:class:`SavedImages`) and, for a conditional run, the reference
        classifier (``reference_classifier.pt``) are kept in the run folder."""
        super().use_run_folder(path)
        self._classifier_path = Path(path) / CLASSIFIER_FILE

    def _make_scorer(self) -> Any:
        """Random features, as before any condition; a conditional run adds the classes of a
        classifier trained on the folder's training labels (``classes_covered``, ``class_kl``,
        ``confidence``, ``conditional_accuracy``)."""
        from gankit.tasks.image_metrics import ClassifiedFeatures, RandomFeatures, Scorer

        space: Any = RandomFeatures(self.shape[0])
        frequencies = None
        if self.condition:
            assert self.labels is not None
            train = self.train_index
            space = ClassifiedFeatures(space, self.trained_classifier(self.images[train], self.labels[train]))
            frequencies = self.class_counts / self.class_counts.sum()
        return Scorer(space, self.images[self.reference_index], self.images[self.floor_index],
                      class_frequencies=frequencies)

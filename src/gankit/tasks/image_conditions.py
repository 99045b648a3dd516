"""Images on request: the digits, or an image folder's images, conditioned on their class
(``data.condition = ["class"]``; a folder's classes are its first-level sub-folders).

The condition vector ``c`` is the one-hot of a class. G reads it after its noise; D sees it as
``classes`` constant planes after the image's channels (so one tensor still carries a point and
its condition through packing and the population paths), which the ``dcgan`` architecture
either convolves with the image (concatenation) or, with ``model.options.projection``, reads
back as a class for a projection discriminator (Miyato & Koyama 2018). Training asks G for
classes in the training images' proportions; a real image comes with its own label.
``conditional_accuracy`` is the share of generated images the reference classifier (trained on
the training images' labels, :class:`gankit.tasks.image_metrics.ImageClassifier`) puts in the
class they were asked for. A digit is asked for by its number; a folder's class by its
sub-folder's name, or by its index when no sub-folder is named by a number.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.core.errors import GankitError, did_you_mean
from gankit.tasks.base import RowSampler, Sampler
from gankit.tasks.conditions import check_condition_names
from gankit.tasks.pixels import encode_uint8


def as_planes(c: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``[..., K]`` conditions as ``[..., K, H, W]`` constant planes."""
    return c[..., None, None].expand(*c.shape, *size)


class LabelledImages(Sampler):
    """Epochs over the training images (as :class:`gankit.tasks.images.ImageSampler` draws
    them: the same order for the same seed), each followed by its label's planes."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes: int,
                 generator: torch.Generator) -> None:
        self.images, self.labels, self.classes = images, labels, classes
        self.order = RowSampler(torch.arange(len(images)), generator)
        self.generator = generator

    def draw(self, n: int) -> torch.Tensor:
        index = self.order.draw(n).cpu()
        x = encode_uint8(self.images[index].to(self.generator.device))
        c = torch.nn.functional.one_hot(self.labels[index], self.classes).float().to(x.device)
        return torch.cat([x, as_planes(c, x.shape[-2:])], dim=-3)

    def state_dict(self) -> dict[str, Any]:
        return self.order.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.order.load_state_dict(state)


class ClassConditioned:
    """The condition methods of an image task with ``labels`` (uint8 images arranged training
    first, then held out) and ``condition`` (``()`` or ``("class",)``); ``class_names``: a
    folder's sub-folders, () where the classes are the labels' numbers (the digits)."""

    condition: tuple[str, ...]
    labels: np.ndarray | None
    class_names: tuple[str, ...] = ()
    condition_is_class = True
    _classifier_path: Path | None = None  # where the reference classifier is cached (a run folder)
    _classifier: Any = None  # the reference classifier a saved state brought (an exported run's)
    images: np.ndarray
    train_index: np.ndarray
    _train_rows: torch.Tensor
    _held_rows: torch.Tensor
    shape: tuple[int, ...]

    @property
    def condition_names(self) -> tuple[str, ...]:
        return ("class",) if self.labels is not None else ()

    @functools.cached_property
    def classes(self) -> int:
        if self.class_names:
            return len(self.class_names)
        return int(self.labels.max()) + 1 if self.labels is not None else 0

    @property
    def class_labels(self) -> tuple[str, ...]:
        """Each class's name: a sub-folder's, or its number."""
        return self.class_names or tuple(str(k) for k in range(self.classes))

    @functools.cached_property
    def class_counts(self) -> np.ndarray:
        """Training images per class (a run folder keeps them: it may keep fewer images)."""
        assert self.labels is not None
        return np.bincount(self.labels[self.train_index], minlength=self.classes)

    @functools.cached_property
    def _class_shares(self) -> torch.Tensor:
        """The training images' class proportions, what G is asked for (computed once: every
        training step draws from them)."""
        counts = self.class_counts
        return torch.tensor(counts / counts.sum(), dtype=torch.float64)

    @property
    def condition_width(self) -> int:
        return self.classes if self.condition else 0

    def _one_hot(self, labels: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot(labels, self.classes).float()

    def conditions(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """Classes in the training images' proportions."""
        p = self._class_shares.to(generator.device)
        return self._one_hot(torch.multinomial(p, n, replacement=True, generator=generator))

    def real_with_conditions(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Held-out images as :meth:`sample` draws them, each followed by its label's planes."""
        return self._held_with_labels(self._held_order(n, generator), generator)  # type: ignore[attr-defined]

    def calibration_points(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Refinement's real images (held-out, as :meth:`calibration_rows` draws them), each
        followed by its own label's planes."""
        return self._held_with_labels(self._calibration_order(n, generator), generator)  # type: ignore[attr-defined]

    def _held_with_labels(self, order: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The held-out images at ``order``, followed by their labels' planes when conditioned."""
        x = encode_uint8(self._held_rows[order].to(generator.device))
        if not self.condition:
            return x
        assert self.labels is not None
        held = torch.from_numpy(self.labels[len(self.train_index):])
        return self.attach_conditions(x, self._one_hot(held[order]).to(x.device))

    def condition_real(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.condition:  # an image's class is not in its pixels: real images come with labels
            raise GankitError("an image's class comes from its label, not its pixels: draw real images "
                              "with real_with_conditions or calibration_points")
        return x

    def attach_conditions(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, as_planes(c, x.shape[-2:])], dim=-3)

    def data_part(self, x: Any) -> Any:
        return x[..., :self.shape[0], :, :] if self.condition else x

    def condition_vector(self, values: dict[str, Any], n: int, device: Any = "cpu",
                         extrapolate: bool = False) -> torch.Tensor:
        check_condition_names(self, tuple(values), self.condition, "--condition")
        return self._one_hot(torch.full((n,), self.class_index(values.get("class")))).to(device)

    def class_index(self, value: Any) -> int:
        """The class a user asks for: a sub-folder's name, or an index 0 to K-1 unless some
        sub-folder is named by a number (the name wins, and an index would be ambiguous); a
        digit's number. Anything else refused in one line, with the accepted values."""
        names, text = self.class_names, str(value).strip()
        if text in names:
            return names.index(text)
        numbered = not names or any(_whole(name) for name in names)
        if _whole(text) and not (names and numbered) and 0 <= int(text) < self.classes:
            return int(text)
        if not names:
            raise GankitError(f"condition class must be 0 to {self.classes - 1}, got {value!r}")
        shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        index = "" if numbered else f", or an index 0 to {self.classes - 1}"
        raise GankitError(f"condition class must be a sub-folder's name{index}, got {value!r}"
                          f"{did_you_mean(text, names)}; accepted: {shown}")

    def condition_figure(self, sample: Any, path: Any) -> Any:
        """``by_condition.png``: ten images asked for of each class, one row per class (the
        first :data:`FIGURE_CLASSES`), enlarged so that 8x8 digits can be seen; a folder's rows
        are labelled by their sub-folders' names."""
        if not self.condition:
            return None
        from PIL import Image

        from gankit.tasks.pixels import save_grid

        shown = self.class_labels[:FIGURE_CLASSES]
        images = np.concatenate([sample({"class": name}, 10, 100 + k) for k, name in enumerate(shown)])
        save_grid(images, path, 10)
        with Image.open(path) as small:
            scale = max(1, 400 // small.width)
            picture = small.resize((small.width * scale, small.height * scale), Image.NEAREST)
        if self.class_names:
            picture = _labelled_rows(picture, shown)
        picture.save(path)
        return path

    def reference_classifier(self) -> Any:
        """The classifier ``conditional_accuracy`` is measured with (see :meth:`trained_classifier`)."""
        space = self.scorer().space  # type: ignore[attr-defined]
        return getattr(space, "classifier", space)

    def trained_classifier(self, images: np.ndarray, labels: np.ndarray) -> Any:
        """The reference classifier of these training ``images`` and ``labels``: the one the
        task's saved state holds (an exported run's, :meth:`adopt_classifier`), else the one
        cached in the run folder, else trained (seconds) and cached there, so that a run's
        metrics stay those of the classifier it started with, the data moved or not, and an
        exported run's those of its folder (which may keep fewer training images)."""
        from gankit.tasks.image_metrics import ImageClassifier

        if self._classifier is not None:
            return self._classifier
        path, classifier = self._classifier_path, None
        if path is not None and path.exists():
            classifier = ImageClassifier.load(path, images.shape[1], self.classes)
        if classifier is None:
            classifier = ImageClassifier.trained(images, labels, self.classes)
            if path is not None and path.parent.is_dir():
                classifier.save(path)
        return classifier

    def classifier_state(self) -> dict[str, Any]:
        """The reference classifier the metrics use, as plain values and arrays: what an
        exported run's saved state carries (see :meth:`adopt_classifier`)."""
        return self.reference_classifier().state()

    def adopt_classifier(self, state: dict[str, Any]) -> None:
        """Score with the classifier a saved ``state`` holds (:meth:`classifier_state`), when it
        holds one, before any retraining; one that does not fit the images' channels and the
        classes is refused in one line."""
        if "classifier" not in state:
            return
        from gankit.tasks.image_metrics import ImageClassifier
        from gankit.tasks.saved import STATE_FILE

        classifier = ImageClassifier.from_state(state["classifier"], self.shape[0], self.classes)
        if classifier is None:
            raise GankitError(f"the saved reference classifier ({STATE_FILE}) is malformed or does not "
                              f"fit the run's {self.shape[0]}-channel images and {self.classes} classes")
        self._classifier = classifier

    def condition_metrics(self, points: np.ndarray) -> dict[str, float]:
        """``conditional_accuracy``: the reference classifier's agreement with the class asked for."""
        channels = self.shape[0]
        images = torch.as_tensor(np.clip(np.nan_to_num(points[:, :channels]), -1, 1), dtype=torch.float32)
        predicted = self.scorer().space.probabilities(images).argmax(axis=1)  # type: ignore[attr-defined]
        asked = points[:, channels:, 0, 0].argmax(axis=1)
        return {"conditional_accuracy": float(np.mean(predicted == asked))}


FIGURE_CLASSES = 50  # rows of by_condition.png: a folder of more classes shows its first 50


def _whole(text: str) -> bool:
    return text.isdigit() or (text.startswith("-") and text[1:].isdigit())


def _labelled_rows(picture: Any, names: tuple[str, ...]) -> Any:
    """``picture`` (one row of images per name) with each row's name written on a margin to
    its left, in Pillow's default font."""
    from PIL import Image, ImageDraw

    width = 8 + 7 * min(24, max(len(name) for name in names))
    grey = picture.mode == "L"
    out = Image.new(picture.mode, (picture.width + width, picture.height), 255 if grey else "white")
    out.paste(picture, (width, 0))
    draw = ImageDraw.Draw(out)
    row = picture.height / len(names)
    for k, name in enumerate(names):
        draw.text((4, row * (k + 0.5) - 5), name[:24], fill=0 if grey else "black")
    return out

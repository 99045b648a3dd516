"""Images on request: the digits conditioned on their class (``data.condition = ["class"]``).

The condition vector ``c`` is the one-hot of a class. G reads it after its noise; D sees it as
``classes`` constant planes after the image's channels (so one tensor still carries a point and
its condition through packing and the population paths), which the ``dcgan`` architecture
either convolves with the image (concatenation) or, with ``model.options.projection``, reads
back as a class for a projection discriminator (Miyato & Koyama 2018). Training asks G for
classes in the training images' proportions; a real image comes with its own label.
``conditional_accuracy`` is the share of generated images the reference classifier puts in the
class they were asked for.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from gankit.core.errors import GankitError
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
    first, then held out) and ``condition`` (``()`` or ``("class",)``)."""

    condition: tuple[str, ...]
    labels: np.ndarray | None
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
        return int(self.labels.max()) + 1 if self.labels is not None else 0

    @functools.cached_property
    def _class_shares(self) -> torch.Tensor:
        """The training images' class proportions, what G is asked for (computed once: every
        training step draws from them)."""
        assert self.labels is not None
        counts = np.bincount(self.labels[self.train_index], minlength=self.classes)
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
        order = self._held_order(n, generator)  # type: ignore[attr-defined]
        x = encode_uint8(self._held_rows[order].to(generator.device))
        if not self.condition:
            return x
        assert self.labels is not None
        held = torch.from_numpy(self.labels[len(self.train_index):])
        return torch.cat([x, as_planes(self._one_hot(held[order]).to(x.device), x.shape[-2:])], dim=-3)

    def condition_real(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.condition:  # an image's class is not in its pixels: it comes from its label
            raise GankitError("refinement (--refine) of a run conditioned on the class is not "
                              "supported yet")
        return x

    def attach_conditions(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, as_planes(c, x.shape[-2:])], dim=-3)

    def data_part(self, x: Any) -> Any:
        return x[..., :self.shape[0], :, :] if self.condition else x

    def condition_vector(self, values: dict[str, Any], n: int, device: Any = "cpu",
                         extrapolate: bool = False) -> torch.Tensor:
        check_condition_names(self, tuple(values), self.condition, "--condition")
        try:
            label = int(values["class"])
        except (KeyError, TypeError, ValueError):
            label = -1
        if not 0 <= label < self.classes:
            raise GankitError(f"condition class must be 0 to {self.classes - 1}, "
                              f"got {values.get('class')!r}")
        return self._one_hot(torch.full((n,), label)).to(device)

    def condition_figure(self, sample: Any, path: Any) -> Any:
        """``by_condition.png``: ten images asked for of each class, one row per class, enlarged
        so that 8x8 digits can be seen."""
        if not self.condition:
            return None
        from PIL import Image

        from gankit.tasks.pixels import save_grid

        images = np.concatenate([sample({"class": k}, 10, 100 + k) for k in range(self.classes)])
        save_grid(images, path, 10)
        with Image.open(path) as small:
            scale = max(1, 400 // small.width)
            small.resize((small.width * scale, small.height * scale), Image.NEAREST).save(path)
        return path

    def condition_metrics(self, points: np.ndarray) -> dict[str, float]:
        """``conditional_accuracy``: the reference classifier's agreement with the class asked for."""
        channels = self.shape[0]
        images = torch.as_tensor(np.clip(np.nan_to_num(points[:, :channels]), -1, 1), dtype=torch.float32)
        predicted = self.scorer().space.probabilities(images).argmax(axis=1)  # type: ignore[attr-defined]
        asked = points[:, channels:, 0, 0].argmax(axis=1)
        return {"conditional_accuracy": float(np.mean(predicted == asked))}

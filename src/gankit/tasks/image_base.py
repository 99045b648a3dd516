"""What the image tasks share (:class:`ImageTask`): uint8 storage, the held-out split,
encoding, the sampler, the metrics' scorer and the figures.

Images are held once in memory as uint8 ``[N, C, H, W]`` (at most
:data:`gankit.tasks.image_io.MAX_BYTES`) and encoded only per batch, to floats in [-1, 1]; G's
output goes through ``tanh`` (the output head), so it lands in the same range. A fixed, seeded
split keeps a held-out part that training never sees; the metrics
(:mod:`gankit.tasks.image_metrics`) compare generated images with one half of it and measure the
noise floor with the other half, of the same count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.core.errors import GankitError
from gankit.metrics import general_metrics
from gankit.tasks.base import RowSampler, Sampler, Task, cycled_order
from gankit.tasks.image_conditions import ClassConditioned, LabelledImages
from gankit.tasks.image_io import check_png_folder, write_pngs
from gankit.tasks.pixels import decode_to_uint8, encode_uint8, grid

SPLIT_SEED = 0  # the held-out split is the same for every run of the same data
CLASSIFIER_FILE = "reference_classifier.pt"  # the digits' or a conditional folder's, in the run folder
METRIC_IMAGES = 2500  # held-out images per half that the metrics use (the general metrics' cap)
MIN_HELD_OUT = 16  # each half of the held-out split needs this many images for the metrics
NO_CSV = "images do not fit a CSV table; use --out DIR/ (PNG files) or --out FILE.npy"


def _check_size(size: int, allowed: tuple[int, ...] | None = None) -> None:
    if allowed is not None and size not in allowed:
        raise GankitError(f"data.size must be one of {', '.join(map(str, allowed))}, got {size}")
    if size < 4 or size > 1024:
        raise GankitError(f"data.size must be from 4 to 1024 pixels, got {size}")


def _check_holdout(holdout: float) -> None:
    if not 0 < holdout < 1:
        raise GankitError(f"data.holdout must be in (0, 1), got {holdout}")


class ImageTask(ClassConditioned, Task):
    """What the digits and the user's images share: the split, the sampler, encode/decode,
    metrics and figures. A subclass sets ``self.images`` (uint8 ``[N, C, H, W]``) and optionally
    ``self.labels`` in ``__post_init__`` and then calls :meth:`_split`."""

    holdout: float
    images: np.ndarray
    labels: np.ndarray | None = None
    condition: tuple[str, ...] = ()  # set by a subclass's field: ("class",) for class-conditional runs
    figure_points = 36  # images in a snapshot's grid (6 x 6)

    def _split(self, total: int | None = None) -> None:
        """Index the arranged ``self.images`` (see :func:`arrangement`): training images, then
        the reference half, then the floor half, each a view, not a copy. ``total``: the data
        set's size, where ``images`` keeps fewer training images (a saved state's)."""
        _, reference, floor = _split_sizes(total or len(self.images), self.holdout)
        train = len(self.images) - reference - floor
        self.train_index = np.arange(train)
        # The metrics use at most METRIC_IMAGES of each half: their cost grows with the square.
        self.reference_index = np.arange(train, train + min(reference, METRIC_IMAGES))
        self.floor_index = np.arange(train + reference, train + reference + min(floor, METRIC_IMAGES))
        self.eval_samples = len(self.floor_index)
        self._train_rows = torch.from_numpy(self.images[:train])
        self._held_rows = torch.from_numpy(self.images[train:])
        self._scorer: Any = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` held-out images in a random order (repeating only when ``n`` exceeds them):
        the real images of snapshots and of ``gankit eval``'s pixel-space metrics."""
        return encode_uint8(self._held_rows[self._held_order(n, generator)].to(generator.device))

    def _held_order(self, n: int, generator: torch.Generator) -> torch.Tensor:
        m = len(self._held_rows)
        return torch.cat([torch.randperm(m, generator=generator, device=generator.device)
                          for _ in range(-(-n // m))])[:n].cpu()

    def calibration_rows(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` held-out images (never trained on) in a random order, each once before any
        repeats: what refinement calibrates D on."""
        return encode_uint8(self._held_rows[self._calibration_order(n, generator)].to(generator.device))

    def _calibration_order(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return cycled_order(len(self._held_rows), n, generator)

    def sampler(self, generator: torch.Generator) -> Sampler:
        if self.condition:
            labels = torch.from_numpy(self.labels[:len(self.train_index)])
            return LabelledImages(self._train_rows, labels, self.classes, generator)
        return ImageSampler(self._train_rows, generator)

    def output_head(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x)

    def encode(self, data: Any) -> torch.Tensor:
        """uint8 images ``[N, H, W]`` or ``[N, H, W, C]`` -> floats ``[N, C, H, W]`` in [-1, 1]."""
        array = np.asarray(data)
        if array.ndim == 3:
            array = array[..., None]
        return encode_uint8(torch.from_numpy(np.ascontiguousarray(np.moveaxis(array, -1, 1))))

    def decode(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        return decode_to_uint8(x)

    @classmethod
    def check_output(cls, out: Path, folder_form: bool) -> None:
        """Besides a .npy file, ``DIR/``: one PNG file per image. Not a .csv: a table of pixels
        would lose the images' shape."""
        if not folder_form:
            if out.suffix == ".csv":
                raise GankitError(NO_CSV)
            if out.suffix != ".npy":
                hint = (f"; for one picture of them all: --grid {out}" if out.suffix.lower() == ".png"
                        else f"; for a folder of PNG files, write '{out}/'")
                raise GankitError(f"--out must be DIR/ (a folder of PNG files) or FILE.npy, "
                                  f"got '{out.name}'{hint}")
            super().check_output(out, folder_form)
            return
        if out.exists() and not out.is_dir():
            raise GankitError(f"cannot write PNG files into '{out}': it is not a folder")
        check_png_folder(out)

    def write_samples(self, chunks: Iterable[Any], out: Path) -> str:
        """A PNG file per image in the folder ``out`` unless it names a .npy file (a .csv is
        refused); the folder is made, and one already holding PNG files is refused."""
        if out.is_dir() or out.suffix not in (".npy", ".csv"):
            paths = write_pngs(np.concatenate(list(chunks)), out)
            return f"wrote {len(paths)} PNG images to {out}"
        if out.suffix == ".csv":
            raise GankitError(NO_CSV)
        return super().write_samples(chunks, out)

    def scorer(self) -> Any:
        """The feature space and reference statistics of the metrics, built on first use."""
        if self._scorer is None:
            self._scorer = self._make_scorer()
        return self._scorer

    def _make_scorer(self) -> Any:
        from gankit.tasks.image_metrics import RandomFeatures, Scorer

        return Scorer(RandomFeatures(self.shape[0]), self.images[self.reference_index],
                      self.images[self.floor_index])

    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        return self.scorer().metrics(fake)

    def extra_figures(self, fake: np.ndarray, figures_dir: Any,
                      metrics: dict[str, Any] | None = None) -> list[Path]:
        """``nearest.png``: generated images, each beside its nearest training images in pixel
        space (a memorisation check: copies would match their neighbours exactly)."""
        from matplotlib.figure import Figure

        train = self._train_rows.numpy()
        shown, k = min(8, len(fake)), min(3, len(train))
        fake = np.asarray(fake[:shown], np.float32)
        flat_fake = torch.from_numpy(fake).flatten(1)
        distance = torch.cat([torch.cdist(flat_fake, encode_uint8(block).flatten(1))  # blocks: little memory
                              for block in self._train_rows.split(4096)], dim=1)
        nearest = distance.topk(k, dim=1, largest=False)
        rows = []
        for i in range(shown):
            picks = [decode_to_uint8(fake[i:i + 1])[0]] + [decode_to_uint8(encode_uint8(
                torch.from_numpy(train[j:j + 1])))[0] for j in nearest.indices[i].tolist()]
            rows.extend(p if p.ndim == 3 else p[..., None] for p in picks)
        picture = grid(np.stack(rows), 1 + k, pad=2)
        fig = Figure(figsize=(4.0, 0.55 * shown + 1.0))
        ax = fig.subplots()
        ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
        ax.axis("off")
        median = float(nearest.values[:, 0].median()) / math.sqrt(flat_fake.shape[1])
        ax.set_title(f"generated (left) and its {k} nearest training images\n"
                     f"median RMS pixel distance to the nearest: {median:.3f} (of [-1, 1])", fontsize=8)
        path = Path(figures_dir) / "nearest.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        return [path]

    def general_metrics(self, real: np.ndarray, fake: np.ndarray, real2: np.ndarray) -> dict[str, float]:
        """The pixel-space metrics against the reference half of the held-out images, with
        floors from the other half: two draws from one finite held-out set would share images
        and understate the floor (coverage_floor 1.0 on the digits)."""
        m = min(len(fake), len(self.floor_index))
        reference, floor = (encode_uint8(torch.from_numpy(self.images[index])).flatten(1).numpy()
                            for index in (self.reference_index, self.floor_index[:m]))
        return general_metrics(reference, np.asarray(fake)[:m].reshape(m, -1), floor)

    def draw_samples(self, ax: Any, real: np.ndarray, fake: np.ndarray) -> None:
        """Held-out images (left) and generated ones (right), as two grids side by side."""
        real_u8, fake_u8 = (decode_to_uint8(np.asarray(a, dtype=np.float32)) for a in (real, fake))
        cols = max(1, math.isqrt(max(len(real_u8), len(fake_u8)) - 1) + 1)
        panels = [grid(a if a.ndim == 4 else a[..., None], cols) for a in (real_u8, fake_u8)]
        height = max(p.shape[0] for p in panels)
        gap = np.full((height, panels[0].shape[1] // 8, panels[0].shape[2]), 255, np.uint8)
        panels = [np.pad(p, ((0, height - p.shape[0]), (0, 0), (0, 0)), constant_values=128) for p in panels]
        picture = np.concatenate([panels[0], gap, panels[1]], axis=1)
        h, w = picture.shape[:2]
        ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture, cmap="gray", vmin=0, vmax=255,
                  extent=(0, w, 0, h), interpolation="nearest")
        ax.set_xlim(0, w)
        ax.set_ylim(0, 1.45 * h)  # room above the grids for the step and D's numbers
        ax.text(panels[0].shape[1] / 2, 1.02 * h, "held-out real", ha="center", va="bottom", fontsize=9)
        ax.text(w - panels[1].shape[1] / 2, 1.02 * h, "generated", ha="center", va="bottom", fontsize=9)
        ax.axis("off")


def _split_sizes(n: int, holdout: float) -> tuple[int, int, int]:
    _check_holdout(holdout)
    held = int(round(n * holdout))
    if held < 2 * MIN_HELD_OUT or n - held < 1:
        raise GankitError(f"{n} images are too few: the held-out share data.holdout = {holdout} "
                          f"must leave at least {2 * MIN_HELD_OUT} held-out images and one to train on")
    return n - held, held - held // 2, held // 2


def arrangement(n: int, holdout: float) -> np.ndarray:
    """The order images are stored in: a seeded random ``holdout`` share is held out of
    training; the training images come first (in their original order), then half of the
    held-out ones (the reference the metrics compare with), then the other half (the floor:
    real images of the same count that show what sampling noise alone gives)."""
    train, reference, _ = _split_sizes(n, holdout)
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    held = order[train:]
    return np.concatenate([np.sort(order[:train]), np.sort(held[:reference]), np.sort(held[reference:])])


class ImageSampler(RowSampler):
    """Epochs over the training images, held as uint8 and encoded one batch at a time."""

    def draw(self, n: int) -> torch.Tensor:
        return encode_uint8(super().draw(n))

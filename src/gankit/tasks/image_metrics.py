"""Metrics of generated images in a feature space, each beside its real-vs-real noise floor.

A :class:`Scorer` holds two disjoint halves of the held-out images: the *reference* that
generated images are compared with, and the *floor* set, real images that play the part of a
perfect generator. Every metric is computed twice on equal counts, (reference, generated) and
(reference, floor): the second is the value sampling noise alone gives.

Feature spaces, neither of which needs a download:
- :class:`ImageClassifier` (digits, and an image folder's sub-folders): a small MLP gankit
  trains on the training split's labels in seconds, deterministically; for the digits its 32
  penultimate features give ``fd``, and its class probabilities give ``classes_covered``,
  ``class_kl``, ``confidence`` and a conditional run's ``conditional_accuracy``.
- :class:`RandomFeatures` (any images): a fixed, seeded, untrained convolutional map. Random
  convolutions still respond to local structure (edges, blobs, colour), and distances between
  such embeddings track sample quality and diversity (Naeem et al. 2020, sec. 4.4 use randomly
  initialised networks for density and coverage); they know nothing of object classes, so
  their ``fd`` is not comparable with an Inception FID, only with its own floor. An image
  folder conditioned on its classes is scored in them too, with its own classifier's classes
  beside them (:class:`ClassifiedFeatures`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gankit.metrics import prdc, with_floors

CONFIDENT = 0.8  # a generated digit counts towards its class when its top probability is this high
MIN_CLASS_SHARE = 0.01  # a class is covered when at least this share of samples is confidently in it
CLASSIFIER_SEED = 0
CLASSIFIER_EPOCHS = 100
CLASSIFIER_ROWS = 120_000  # images a reference classifier trains on in all (epochs x images), at most
MAX_SIDE = 16  # a reference classifier sees images averaged down to this size, at most
ENCODE_CHUNK = 4096  # images encoded to floats (and averaged down) at a time: full-size floats are 4x uint8
FEATURE_SEED = 0


def _encode(images: np.ndarray) -> torch.Tensor:
    return torch.tensor(images, dtype=torch.float32).div_(127.5).sub_(1.0)  # in place: one full-size copy


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two
    samples of rows (Heusel et al. 2017). Tr (S_a S_b)^(1/2) is the sum of the square roots of
    the eigenvalues of S_a^(1/2) S_b S_a^(1/2), a symmetric matrix, so no general matrix square
    root (and no complex rounding residue) is needed."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu = a.mean(0) - b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    return float(mu @ mu + np.trace(cov_a) + np.trace(cov_b) - 2 * np.sqrt(np.clip(cross, 0, None)).sum())


class RandomFeatures:
    """A fixed random convolutional embedding: two 4x4 stride-2 convolutions with ReLU, pooled
    to 2x2, 256 features. The weights come from a fixed seed, so values compare across runs."""

    def __init__(self, channels: int) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(FEATURE_SEED)
            self.net = nn.Sequential(nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1),
                                     nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()).eval()

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> np.ndarray:
        return self.net(x).numpy()


class _ClassifierNet(nn.Module):
    """An MLP on ``inputs`` pixels: two hidden layers (256, then the 32 features), a class head."""

    def __init__(self, inputs: int = 64, classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(inputs, 256), nn.ReLU(), nn.Linear(256, 32),
                                  nn.ReLU())
        self.head = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _pooled(x: torch.Tensor, side: int) -> torch.Tensor:
    return x if x.shape[-1] == side else nn.functional.adaptive_avg_pool2d(x, side)


def _pooled_images(images: np.ndarray, side: int) -> torch.Tensor:
    """uint8 ``images [N, C, H, W]`` as floats in [-1, 1] averaged down to ``side``, encoded
    :data:`ENCODE_CHUNK` images at a time: only one chunk is ever at full size in floats. Both
    steps are per image, so the values are those of encoding and pooling all at once, bit for bit."""
    out = torch.empty((len(images), images.shape[1], side, side), dtype=torch.float32)
    for start in range(0, len(images), ENCODE_CHUNK):
        out[start:start + ENCODE_CHUNK] = _pooled(_encode(images[start:start + ENCODE_CHUNK]), side)
    return out


def _digest(images: np.ndarray, labels: np.ndarray) -> str:
    """A SHA-256 of C-contiguous uint8 ``images`` and int64 ``labels``, with their shapes: the
    key of a trained classifier, so that the cache holds no copy of the images."""
    digest = hashlib.sha256(repr((images.shape, labels.shape)).encode())
    digest.update(memoryview(images).cast("B"))
    digest.update(memoryview(labels).cast("B"))
    return digest.hexdigest()


_TRAINED: dict[tuple[str, int, int], _ClassifierNet] = {}  # (digest, side, classes): trained once a process


class ImageClassifier:
    """A reference classifier of labelled images (the digits' classes, an image folder's
    sub-folders): images of any size are averaged down to ``side`` x ``side`` first (8 for the
    digits, at most :data:`MAX_SIDE` for a folder), then an MLP of any channels and classes."""

    def __init__(self, net: _ClassifierNet, side: int = 8, accuracy: float = float("nan")) -> None:
        self.net = net.eval()
        self.side = side
        self.accuracy = accuracy  # on the held-out images, when known

    @staticmethod
    def _train(images: np.ndarray, int_labels: np.ndarray, side: int, classes: int) -> _ClassifierNet:
        """The MLP trained (seeded) on uint8 ``images`` averaged down to ``side``."""
        n, channels = images.shape[:2]
        labels = torch.from_numpy(int_labels.copy())
        x = _pooled_images(images, side)
        # The digits' 100 epochs (1,078 images); a larger set gets fewer, for the same cost.
        epochs = max(1, min(CLASSIFIER_EPOCHS, CLASSIFIER_ROWS // n))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(CLASSIFIER_SEED)
            net = _ClassifierNet(channels * side * side, classes)
            rng = torch.Generator().manual_seed(CLASSIFIER_SEED)
            opt = torch.optim.Adam(net.parameters(), lr=2e-3)
            for _ in range(epochs):
                for batch in torch.randperm(n, generator=rng).split(128):
                    # one-pixel shifts: the classifier should not hinge on exact positions
                    dx, dy = torch.randint(-1, 2, (2,), generator=rng).tolist()
                    inputs = torch.roll(x[batch], (dy, dx), dims=(2, 3))
                    loss = nn.functional.cross_entropy(net(inputs), labels[batch])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        return net

    @classmethod
    def trained(cls, images: np.ndarray, labels: np.ndarray, classes: int | None = None,
                side: int | None = None) -> ImageClassifier:
        """Trained on uint8 ``images [N, C, H, W]`` with int ``labels`` (0 to ``classes - 1``,
        default the largest label + 1) at ``side`` (default the images' own, at most
        :data:`MAX_SIDE`); the same data give the same weights, and a process trains it once
        per split, keyed by a digest of the data (the digits: about two seconds on one CPU thread)."""
        images = np.ascontiguousarray(images, np.uint8)
        labels = np.ascontiguousarray(labels, np.int64)
        side = side or min(images.shape[-1], MAX_SIDE)
        classes = classes or int(labels.max()) + 1
        key = (_digest(images, labels), side, classes)
        if key not in _TRAINED:
            _TRAINED[key] = cls._train(images, labels, side, classes)
        return cls(_TRAINED[key], side)

    def save(self, path: Path) -> None:
        """The weights, written atomically (a file that cannot be written is only a lost cache)."""
        from gankit.core.atomic import atomic_write_bytes

        buffer = io.BytesIO()
        torch.save({"version": 1, "weights": self.net.state_dict(), "side": self.side,
                    "accuracy": self.accuracy}, buffer)
        with contextlib.suppress(OSError):
            atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: Path, channels: int = 1, classes: int = 10) -> ImageClassifier | None:
        """The classifier saved at ``path``; None when it cannot be read or is not one of
        ``channels`` and ``classes`` (it is then retrained)."""
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            weights = state["weights"]
            side = int(state.get("side", 8))  # a digits classifier saved before sizes varied
            net = _ClassifierNet(channels * side * side, classes)
            net.load_state_dict(weights)
            accuracy = float(state.get("accuracy", float("nan")))
        except (OSError, RuntimeError, KeyError, TypeError, ValueError, EOFError, AttributeError,
                pickle.UnpicklingError):
            return None
        return cls(net, side, accuracy)

    def state(self) -> dict[str, Any]:
        """The classifier as plain values and numpy arrays, what a task's saved state holds
        (:mod:`gankit.tasks.saved`): its side, its held-out accuracy (None when unknown) and its
        weights, float32 as they are (:meth:`from_state` gives the same bits back)."""
        return {"side": self.side, "accuracy": self.accuracy if math.isfinite(self.accuracy) else None,
                "weights": {name: tensor.detach().cpu().numpy().copy()
                            for name, tensor in self.net.state_dict().items()}}

    @classmethod
    def from_state(cls, state: Any, channels: int, classes: int) -> ImageClassifier | None:
        """The classifier of a :meth:`state`; None when it is malformed or not one of
        ``channels`` and ``classes``."""
        try:
            side = int(state["side"])
            if side < 1:
                raise ValueError(f"side {side}")
            net = _ClassifierNet(channels * side * side, classes)
            net.load_state_dict({str(name): torch.from_numpy(np.array(array, np.float32))
                                 for name, array in state["weights"].items()})
            accuracy = state.get("accuracy")
            accuracy = float("nan") if accuracy is None else float(accuracy)
        except (RuntimeError, KeyError, TypeError, ValueError, AttributeError):
            return None
        return cls(net, side, accuracy)

    @torch.no_grad()
    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.net.body(_pooled(x, self.side))
        return hidden, torch.softmax(self.net.head(hidden), dim=1)

    def features(self, x: torch.Tensor) -> np.ndarray:
        return self._forward(x)[0].numpy()

    def probabilities(self, x: torch.Tensor) -> np.ndarray:
        return self._forward(x)[1].numpy()

    def held_out_accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        """The share of uint8 ``images`` put in their own class: the ceiling of a conditional
        run's ``conditional_accuracy``; kept in :attr:`accuracy`."""
        predicted = np.concatenate([self.probabilities(_encode(part)).argmax(1)
                                    for part in np.array_split(images, max(1, len(images) // ENCODE_CHUNK))])
        self.accuracy = float(np.mean(predicted == labels))
        return self.accuracy


DigitClassifier = ImageClassifier  # the digits' reference classifier, by its earlier name


class ClassifiedFeatures:
    """The features of one space (``fd`` and the feature metrics) beside the class
    probabilities of a classifier: an image folder conditioned on its classes keeps the random
    features an unconditional run of it is scored in, and adds its own classifier's classes."""

    def __init__(self, space: Any, classifier: ImageClassifier) -> None:
        self.space, self.classifier = space, classifier

    def features(self, x: torch.Tensor) -> np.ndarray:
        return self.space.features(x)

    def probabilities(self, x: torch.Tensor) -> np.ndarray:
        return self.classifier.probabilities(x)


class Scorer:
    """Reference and floor images with their features computed once; :meth:`metrics` scores a
    generated sample (floats in [-1, 1], ``[n, C, H, W]``) against them."""

    def __init__(self, space: Any, reference: np.ndarray, floor: np.ndarray,
                 class_frequencies: np.ndarray | None = None) -> None:
        self.space = space
        self.reference = space.features(_encode(reference))
        self.floor_x = _encode(floor)
        self.floor = space.features(self.floor_x)
        self.class_frequencies = class_frequencies
        self._floor_values: dict[int, dict[str, float]] = {}

    def _values(self, x: torch.Tensor, features: np.ndarray) -> dict[str, float]:
        values: dict[str, float] = {}
        if self.class_frequencies is not None:
            values.update(class_metrics(self.space.probabilities(x), self.class_frequencies))
        values["fd"] = frechet_distance(self.reference, features)
        values.update({f"feature_{k}": v for k, v in prdc(self.reference, features).items()})
        return values

    def _floor_pick(self, m: int) -> np.ndarray:
        """Which ``m`` floor images stand for a perfect generator: all of them, or ``m`` drawn
        with a fixed seed (kept in their order). Never the first ``m``: the held-out images are
        in file order, and a folder of one subfolder per class is sorted by class."""
        if m == len(self.floor):
            return np.arange(m)
        return np.sort(np.random.default_rng(FEATURE_SEED).choice(len(self.floor), m, replace=False))

    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        """Every metric on ``min(len(fake), floor images)`` generated images, each followed by
        ``NAME_floor``, its value for as many held-out real images (:meth:`_floor_pick`).
        Non-finite generated pixels (a diverged generator) are clipped into range first, so the
        metrics stay defined."""
        m = min(len(fake), len(self.floor))
        x = torch.as_tensor(np.nan_to_num(np.asarray(fake[:m], np.float32), nan=0.0)).clamp(-1, 1)
        if m not in self._floor_values:
            pick = self._floor_pick(m)
            self._floor_values[m] = self._values(self.floor_x[pick], self.floor[pick])
        return with_floors(self._values(x, self.space.features(x)), self._floor_values[m])


def class_metrics(probabilities: np.ndarray, frequencies: np.ndarray) -> dict[str, float]:
    """``classes_covered``: classes that at least 1% of the samples are confidently (top
    probability >= 0.8) classified into; ``class_kl``: KL(predicted-class histogram || real class
    frequencies) in nats; ``confidence``: the mean top-class probability, a sharpness proxy."""
    top = probabilities.argmax(1)
    confident = probabilities.max(1) >= CONFIDENT
    k = len(frequencies)
    counts = np.bincount(top[confident], minlength=k)
    share = np.bincount(top, minlength=k) / len(top)
    seen = share > 0
    return {
        "classes_covered": int(np.count_nonzero(counts >= MIN_CLASS_SHARE * len(top))),
        "class_kl": max(0.0, float(np.sum(share[seen] * np.log(share[seen] / frequencies[seen])))),
        "confidence": float(probabilities.max(1).mean()),
    }

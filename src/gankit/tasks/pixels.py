"""Pixels as files hold them (uint8 0..255, channels last) and as the networks see them (floats
in [-1, 1], channels first), and pictures of many images at once."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch

from gankit.core.atomic import atomic_write_bytes
from gankit.core.errors import GankitError


def encode_uint8(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 -> float32 in [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def decode_to_uint8(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Floats in [-1, 1] ``[N, C, H, W]`` -> uint8 images ``[N, H, W]`` (one channel) or
    ``[N, H, W, C]``, the layout image files and libraries use; values outside are clipped."""
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    pixels = np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)
    pixels = np.moveaxis(pixels, -3, -1)
    return pixels[..., 0] if pixels.shape[-1] == 1 else pixels


def grid(images: np.ndarray, cols: int, pad: int = 1) -> np.ndarray:
    """uint8 images ``[N, H, W, C]`` tiled row by row into one
    ``[rows*(H+pad)+pad, cols*(W+pad)+pad, C]`` picture on a mid-grey background."""
    n, h, w, c = images.shape
    rows = max(1, -(-n // cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 128, np.uint8)
    for i, image in enumerate(images):
        r, k = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + k * (w + pad):pad + k * (w + pad) + w] = image
    return out


def check_grid_file(path: Path) -> None:
    """Refuse a file :func:`save_grid` would not write: not a .png, or in a missing folder."""
    if path.suffix.lower() != ".png":
        raise GankitError(f"--grid must name a .png file, got '{path.name}'")
    if not path.parent.is_dir():
        raise GankitError(f"cannot write '{path}': folder '{path.parent}' does not exist")
    if path.is_dir():
        raise GankitError(f"cannot write '{path}': it is a folder")


def save_grid(images: np.ndarray, path: Path, nrow: int | None = None, pad: int = 2) -> tuple[int, int]:
    """uint8 images ``[N, H, W]`` or ``[N, H, W, C]`` as one PNG file, ``nrow`` images per row
    (default ``ceil(sqrt(N))``, a square), ``pad`` pixels between and around them, as
    torchvision's ``save_image(nrow=...)`` lays them out: ``rows*(H+pad)+pad`` pixels high,
    ``min(nrow, N)*(W+pad)+pad`` wide. The background is mid-grey, not torchvision's black:
    digits are bright on black and would run into it. Written atomically; returns (rows, columns)."""
    from PIL import Image

    path = Path(path)
    check_grid_file(path)
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or len(images) == 0:
        raise GankitError(f"a grid needs uint8 images [N, H, W] or [N, H, W, C], got {images.dtype} "
                          f"{images.shape}")
    if nrow is not None and nrow < 1:
        raise GankitError(f"--nrow must be positive, got {nrow}")
    images = images[..., None] if images.ndim == 3 else images
    cols = min(nrow, len(images)) if nrow else math.ceil(math.sqrt(len(images)))
    picture = grid(images, cols, pad)
    buffer = io.BytesIO()
    Image.fromarray(picture[..., 0] if picture.shape[2] == 1 else picture).save(buffer, format="PNG")
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as exc:
        raise GankitError(f"cannot write '{path}': {exc.strerror or exc}") from None
    return -(-len(images) // cols), cols


def upscale(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 ``[N, C, h, w]`` -> ``[N, C, size, size]`` by bilinear interpolation."""
    if images.shape[-1] == size:
        return images
    x = torch.nn.functional.interpolate(torch.from_numpy(images).float(), size=(size, size),
                                        mode="bilinear", align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).numpy()

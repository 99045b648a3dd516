"""Pixels as files hold them (uint8 0..255, channels last) and as the networks see them (floats
in [-1, 1], channels first), and pictures of many images at once."""

from __future__ import annotations

import numpy as np
import torch


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
    """uint8 images ``[N, H, W, C]`` tiled row by row into one ``[rows*(H+pad), cols*(W+pad), C]``
    picture on a mid-grey background."""
    n, h, w, c = images.shape
    rows = max(1, -(-n // cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 128, np.uint8)
    for i, image in enumerate(images):
        r, k = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + k * (w + pad):pad + k * (w + pad) + w] = image
    return out


def upscale(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 ``[N, C, h, w]`` -> ``[N, C, size, size]`` by bilinear interpolation."""
    if images.shape[-1] == size:
        return images
    x = torch.nn.functional.interpolate(torch.from_numpy(images).float(), size=(size, size),
                                        mode="bilinear", align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).numpy()

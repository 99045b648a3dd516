"""Image files in and out: the user's PNG/JPEG folders and .npy/.npz arrays read as uint8
``[N, C, size, size]``, and generated images written as PNG files.

Apart from the tasks (:mod:`gankit.tasks.images`): file formats and the memory limit are their
own subject, and none of it needs torch.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from gankit.core.errors import GankitError

MAX_BYTES = 2 << 30  # images held in memory as uint8: 2 GiB, e.g. 700,000 RGB images of 32x32
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ARRAY_SUFFIXES = (".npy", ".npz")


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def array_shape(path: Path) -> tuple[int, ...] | None:
    """The shape of the array in a .npy file, or of the first 3-D/4-D array in a .npz file,
    read from the headers only (nothing is loaded)."""
    if path.suffix.lower() == ".npy":
        return tuple(np.load(path, mmap_mode="r").shape)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            with archive.open(name) as f:
                version = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape = read(f)[0]
                if len(shape) in (3, 4):
                    return tuple(shape)
    return None


def _fit(image: Any, size: int) -> np.ndarray:
    """A PIL image resized so that its shorter side is ``size``, then centre-cropped square."""
    from PIL import Image

    w, h = image.size
    scale = size / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))),
                         Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.LANCZOS)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)))


def _check_memory(count: int, channels: int, size: int) -> None:
    needed = count * channels * size * size
    if needed > MAX_BYTES:
        raise GankitError(f"{count:,} images of {channels}x{size}x{size} need {needed / 2**30:.1f} GiB as "
                          f"uint8, more than gankit holds in memory ({MAX_BYTES / 2**30:.0f} GiB); "
                          "use a smaller data.size or fewer images")


def load_folder(folder: Path, size: int, channels: int) -> np.ndarray:
    """Every PNG/JPEG under ``folder`` (recursively, in sorted path order) as uint8
    ``[N, C, size, size]``. Images of any size are resized and centre-cropped, one at a time
    (only the small results are kept); files that cannot be decoded are skipped with one line
    on stderr; ``channels`` 0 means 1 when every image is grayscale, else 3."""
    from PIL import Image, UnidentifiedImageError

    files = _image_files(folder)
    if not files:
        raise GankitError(f"no PNG or JPEG files under '{folder}'")
    if channels == 0:
        modes = set()
        for path in files:
            try:
                with Image.open(path) as image:  # reads the header only
                    modes.add(image.mode)
            except (UnidentifiedImageError, OSError, ValueError):
                pass
        channels = 1 if modes <= {"1", "L", "LA", "I", "I;16"} else 3
    _check_memory(len(files), channels, size)
    mode = "L" if channels == 1 else "RGB"
    fitted, skipped = [], []
    for path in files:
        try:
            with Image.open(path) as image:
                pixels = _fit(image.convert(mode), size)
        except (UnidentifiedImageError, OSError, ValueError):
            skipped.append(path)
            continue
        fitted.append(pixels[None] if channels == 1 else np.moveaxis(pixels, -1, 0))
    if skipped:
        print(f"gankit: skipped {len(skipped)} unreadable image file(s) under '{folder}', e.g. "
              f"'{skipped[0]}'", file=sys.stderr)
    if not fitted:
        raise GankitError(f"none of the {len(files)} image files under '{folder}' could be read")
    return np.stack(fitted)


def load_array(path: Path, size: int, channels: int) -> np.ndarray:
    """An ``[N, H, W]`` or ``[N, H, W, C]`` array (C = 1, 3 or 4; a 4th channel, alpha, is
    dropped) as uint8 ``[N, C, size, size]``. uint8 values are pixels; floats in [0, 1] are
    scaled by 255; anything else must lie in 0..255."""
    from PIL import Image

    try:
        loaded = np.load(path)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                arrays = [loaded[k] for k in loaded.files]
            array = next((a for a in arrays if a.ndim in (3, 4)), None)
            if array is None:
                raise GankitError(f"'{path}' holds no 3-D or 4-D array of images")
        else:
            array = loaded
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise GankitError(f"cannot read '{path}': {exc}") from None
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4) or len(array) == 0:
        raise GankitError(f"'{path}' must hold images [N, H, W] or [N, H, W, C] with C = 1, 3 or 4; "
                          f"got shape {array.shape}")
    array = array[..., :3]
    if array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
            raise GankitError(f"'{path}' must hold finite numbers, got dtype {array.dtype}")
        low, high = float(array.min()), float(array.max())
        if np.issubdtype(array.dtype, np.floating) and low >= 0 and high <= 1:
            array = array * 255.0
        elif low < 0 or high > 255:
            raise GankitError(f"'{path}' values must be uint8, floats in [0, 1] or numbers in 0..255; "
                              f"they range over [{low:g}, {high:g}]")
        array = np.rint(array).astype(np.uint8)
    channels = channels or (1 if array.shape[-1] == 1 else 3)
    _check_memory(len(array), channels, size)
    mode = "L" if channels == 1 else "RGB"
    out = np.empty((len(array), channels, size, size), np.uint8)
    for i, pixels in enumerate(array):
        image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).convert(mode)
        fitted = _fit(image, size) if image.size != (size, size) else np.asarray(image)
        out[i] = fitted[None] if channels == 1 else np.moveaxis(fitted, -1, 0)
    return out


def check_png_folder(folder: Path) -> None:
    """Refuse a folder :func:`write_pngs` would not write: one whose parent is missing (a typo
    should not make a tree of folders) or that already holds PNG files (nothing is overwritten)."""
    if not folder.parent.is_dir():
        raise GankitError(f"cannot write '{folder}': folder '{folder.parent}' does not exist")
    if folder.is_dir() and any(folder.glob("*.png")):
        raise GankitError(f"'{folder}' already holds PNG files; write to a new or empty folder")


def write_pngs(images: np.ndarray, folder: Path) -> list[Path]:
    """uint8 images ``[N, H, W]`` or ``[N, H, W, C]`` as ``folder/000000.png`` ...; the folder
    is made if its parent exists, and one that already holds PNG files is refused (nothing is
    overwritten). A file that cannot be written is a one-line error."""
    from PIL import Image

    folder = Path(folder)
    check_png_folder(folder)
    digits = max(6, len(str(len(images) - 1)))
    paths = []
    try:
        folder.mkdir(exist_ok=True)
        for i, image in enumerate(images):
            path = folder / f"{i:0{digits}d}.png"
            Image.fromarray(image).save(path)
            paths.append(path)
    except OSError as exc:
        raise GankitError(f"cannot write PNG files in '{folder}': {exc.strerror or exc}") from None
    return paths

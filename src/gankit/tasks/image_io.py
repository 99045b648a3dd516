"""Image files in and out: the user's image folders (every common raster format Pillow reads)
and .npy/.npz arrays read as uint8 ``[N, C, size, size]``, a folder's classes from its
first-level sub-folders, and generated images written as PNG files.

Apart from the tasks (:mod:`gankit.tasks.images`): file formats and the memory limit are their
own subject, and none of it needs torch.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gankit.core.console import say
from gankit.core.errors import GankitError

MAX_BYTES = 2 << 30  # images held in memory as uint8: 2 GiB, e.g. 700,000 RGB images of 32x32
# The raster formats Pillow opens, by file name. Left out though Pillow knows them: formats that
# hold other things more often than pictures in a data folder (.h5, .fits, .grib, .pdf, .eps
# (Ghostscript), .mpg, .psd layers), and Pillow's rarer ones (.ico, .dds, .xbm, ...). WebP, AVIF
# and JPEG 2000 need Pillow built with their libraries (PIL.features); without one, such files are
# named as unreadable, with the missing feature.
IMAGE_SUFFIXES = (".png", ".apng", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".dib", ".gif", ".webp",
                  ".tif", ".tiff", ".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".qoi", ".avif", ".jp2",
                  ".j2k", ".pcx", ".sgi")
ARRAY_SUFFIXES = (".npy", ".npz")
FEATURES = {".webp": "webp", ".avif": "avif", ".jp2": "jpg_2000", ".j2k": "jpg_2000"}
NAMED = 5  # unreadable files named in a message; the rest are counted
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
WIDE_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}  # more than 8 bits per pixel
ALPHA_MODES = {"LA", "La", "RGBA", "RGBa", "PA"}


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


def is_grey(image: Any) -> bool:
    """Whether an opened image holds grey levels only: from its mode, and for a palette image
    from the palette entries its pixels use (which decodes it)."""
    if image.mode in GREY_MODES:
        return True
    if image.mode not in ("P", "PA"):
        return False
    palette = image.getpalette("RGB")
    if not palette:
        return False
    indices = np.asarray(image)
    used = np.unique(indices[..., 0] if image.mode == "PA" else indices)
    colours = np.asarray(palette, np.int64).reshape(-1, 3)[used[used < len(palette) // 3]]
    return bool(np.all(colours == colours[:, :1]))


def as_mode(image: Any, mode: str) -> Any:
    """An opened image (its first frame) in ``mode``, "L" or "RGB", with pixels as it shows.

    - 16-bit and 32-bit integer images ("I;16", "I": 16-bit PNG, TIFF, PGM) hold 0..65535 and
      are scaled by 255/65535: Pillow's own convert clips them at 255, all but black turning
      white. Float images ("F") are taken as 0..1.
    - Palette images ("P") become their palette's colours (or grey levels, for mode "L").
    - Transparency is composited on white, as a viewer shows it on a page: dropping alpha would
      bring out whatever colour transparent pixels happen to store (often black, sometimes
      leftovers of editing), which depends on the program that saved the file, not the picture.
    - CMYK, YCbCr and the rest go through Pillow's convert.
    """
    from PIL import Image

    if image.mode in WIDE_MODES:
        values = np.asarray(image, np.float64) / (1.0 if image.mode == "F" else 65535.0)
        image = Image.fromarray(np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8))
    elif image.mode in ("P", "PA") and (image.mode == "PA" or "transparency" in image.info):
        image = image.convert("RGBA")  # the palette's colours, its transparent entry as alpha
    if image.mode in ALPHA_MODES:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return image.convert(mode)


def _named(paths: list[Path], folder: Path) -> str:
    """The first :data:`NAMED` paths relative to ``folder``, then how many more."""
    shown = ", ".join(f"'{p.relative_to(folder)}'" for p in paths[:NAMED])
    more = f" and {len(paths) - NAMED} more" if len(paths) > NAMED else ""
    return shown + more


def _missing_support(paths: list[Path]) -> str:
    """A hint when some of ``paths`` are in a format this Pillow was built without."""
    from PIL import features

    missing = sorted({FEATURES[p.suffix.lower()] for p in paths if p.suffix.lower() in FEATURES}
                     - {name for name in set(FEATURES.values()) if features.check(name)})
    return f" (this Pillow cannot read {', '.join(missing)}: PIL.features.check)" if missing else ""


@dataclass(frozen=True)
class FolderImages:
    """A folder's images and, when every one of them sits in a first-level sub-folder, their
    classes (torchvision's ``ImageFolder`` convention: ``folder/cat/*.png`` is class ``cat``,
    classes sorted by name; deeper folders belong to their first-level one)."""

    images: np.ndarray  # uint8 [N, C, size, size], in sorted path order
    labels: np.ndarray | None  # int64 [N], indices into class_names; None: no classes
    class_names: tuple[str, ...]
    top_level: tuple[str, ...] = ()  # images read directly in the folder, beside sub-folders


def folder_classes(files: list[Path], folder: Path) -> FolderImages:
    """The classes of image ``files`` under ``folder`` (images left empty): each file's
    first-level sub-folder. A flat folder has none; a folder with images both directly in it
    and in sub-folders has none either, and ``top_level`` names the loose ones (a class taken
    from some files only would label the others wrongly)."""
    parts = [p.relative_to(folder).parts for p in files]
    loose = tuple(str(Path(*q)) for q in parts if len(q) == 1)
    names = tuple(sorted({q[0] for q in parts if len(q) > 1}))
    empty = np.empty((0,), np.uint8)
    if not names or loose:
        return FolderImages(empty, None, (), loose if names else ())
    index = {name: k for k, name in enumerate(names)}
    return FolderImages(empty, np.array([index[q[0]] for q in parts], np.int64), names)


def read_folder(folder: Path, size: int, channels: int) -> FolderImages:
    """Every image file under ``folder`` (:data:`IMAGE_SUFFIXES`, recursively, in sorted path
    order; an animation's first frame) as uint8 ``[N, C, size, size]``, its pixels as
    :func:`as_mode` says, with the classes of :func:`folder_classes`. Images of any size are
    resized and centre-cropped, one at a time (only the small results are kept); files that
    cannot be decoded are skipped, named on stderr, and have no class; ``channels`` 0 means 1
    when every image is grayscale, else 3."""
    from PIL import Image, UnidentifiedImageError

    unreadable = (UnidentifiedImageError, OSError, ValueError, SyntaxError)  # SyntaxError: bad headers
    files = _image_files(folder)
    if not files:
        raise GankitError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) under '{folder}'")
    if channels == 0:
        channels = 1
        for path in files:
            try:
                with Image.open(path) as image:  # reads the header only, or a palette's pixels
                    if not is_grey(image):
                        channels = 3
                        break
            except unreadable:
                pass
    _check_memory(len(files), channels, size)
    mode = "L" if channels == 1 else "RGB"
    fitted, read, skipped = [], [], []
    for path in files:
        try:
            with Image.open(path) as image:
                pixels = _fit(as_mode(image, mode), size)
        except unreadable:
            skipped.append(path)
            continue
        fitted.append(pixels[None] if channels == 1 else np.moveaxis(pixels, -1, 0))
        read.append(path)
    if not fitted:
        raise GankitError(f"none of the {len(files)} image files under '{folder}' could be read: "
                          f"{_named(skipped, folder)}{_missing_support(skipped)}")
    if skipped:
        say(f"gankit: skipped {len(skipped)} unreadable image file(s) under '{folder}': "
            f"{_named(skipped, folder)}{_missing_support(skipped)}")
    return replace(folder_classes(read, folder), images=np.stack(fitted))


def load_folder(folder: Path, size: int, channels: int) -> np.ndarray:
    """The images of :func:`read_folder`, without their classes."""
    return read_folder(folder, size, channels).images


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

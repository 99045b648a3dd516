"""Image files read into uint8 arrays (formats, bit depths, palettes, transparency, unreadable
files) and many images drawn as one grid picture."""

import numpy as np
import pytest
from PIL import Image, features

from gankit.core.errors import GankitError
from gankit.tasks.image_io import IMAGE_SUFFIXES, load_folder
from gankit.tasks.images import Digits, ImageFolder

WEBP = pytest.mark.skipif(not features.check("webp"), reason="this Pillow was built without WebP support")


def _save(folder, name, image, **options):
    folder.mkdir(parents=True, exist_ok=True)
    image.save(folder / name, **options)


def test_16_bit_greyscale_png_and_tiff_are_scaled_by_65535_not_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)
    _save(tmp_path / "png", "ramp.png", Image.fromarray(ramp))
    _save(tmp_path / "tif", "ramp.tif", Image.fromarray(ramp))
    assert Image.open(tmp_path / "png" / "ramp.png").mode == "I;16"
    expected = np.rint(ramp / 65535 * 255).astype(np.uint8)
    for folder in ("png", "tif"):
        images = load_folder(tmp_path / folder, 8, 0)  # 16-bit grey: one channel
        assert images.shape == (1, 1, 8, 8)
        np.testing.assert_array_equal(images[0, 0], expected)  # before: 0, then 255 everywhere
    rgb = load_folder(tmp_path / "png", 8, 3)
    assert all(np.array_equal(rgb[0, c], expected) for c in range(3))


def test_32_bit_integer_images_are_16_bit_values():
    from gankit.tasks.image_io import as_mode

    values = np.array([[0, 32768, 65535, 70000]], np.int32)
    out = np.asarray(as_mode(Image.fromarray(values), "L"))  # mode "I"
    np.testing.assert_array_equal(out, [[0, 128, 255, 255]])


def test_palette_images_keep_their_colours_and_grey_palettes_one_channel(tmp_path):
    colour = Image.new("P", (4, 4))
    colour.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    colour.putpixel((0, 0), 1)
    _save(tmp_path / "colour", "a.png", colour)
    images = load_folder(tmp_path / "colour", 4, 0)
    assert images.shape == (1, 3, 4, 4)
    assert tuple(images[0, :, 0, 0]) == (0, 0, 255) and tuple(images[0, :, 3, 3]) == (255, 0, 0)
    grey = Image.new("P", (4, 4))
    grey.putpalette([10, 10, 10, 200, 200, 200, 255, 0, 0] + [0] * 759)  # red entry unused
    grey.putpixel((1, 1), 1)
    _save(tmp_path / "grey", "a.png", grey)
    images = load_folder(tmp_path / "grey", 4, 0)
    assert images.shape == (1, 1, 4, 4)  # before: three channels for any palette image
    assert images[0, 0, 0, 0] == 10 and images[0, 0, 1, 1] == 200


def test_transparency_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)  # transparent black ...
    rgba[0, 0] = (255, 0, 0, 255)  # ... but one opaque red pixel
    rgba[0, 1] = (0, 0, 0, 128)  # and one half-transparent black one
    _save(tmp_path / "rgba", "a.png", Image.fromarray(rgba, "RGBA"))
    images = load_folder(tmp_path / "rgba", 4, 0)
    assert images.shape == (1, 3, 4, 4)
    assert tuple(images[0, :, 0, 0]) == (255, 0, 0) and tuple(images[0, :, 3, 3]) == (255, 255, 255)
    assert all(abs(int(v) - 127) <= 1 for v in images[0, :, 0, 1])
    la = Image.fromarray(np.stack([np.full((4, 4), 30, np.uint8), np.zeros((4, 4), np.uint8)], -1), "LA")
    _save(tmp_path / "la", "a.png", la)
    images = load_folder(tmp_path / "la", 4, 0)
    assert images.shape == (1, 1, 4, 4) and np.all(images == 255)  # before: the hidden 30
    palette = Image.new("P", (4, 4))
    palette.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    palette.putpixel((0, 0), 1)
    _save(tmp_path / "p", "a.png", palette, transparency=0)
    images = load_folder(tmp_path / "p", 4, 0)
    assert tuple(images[0, :, 0, 0]) == (0, 200, 0) and tuple(images[0, :, 3, 3]) == (255, 255, 255)


def test_cmyk_tiff_reads_as_rgb(tmp_path):
    _save(tmp_path / "cmyk", "a.tiff", Image.new("CMYK", (4, 4), (0, 255, 255, 0)))  # red
    images = load_folder(tmp_path / "cmyk", 4, 0)
    assert images.shape == (1, 3, 4, 4) and tuple(images[0, :, 2, 2]) == (255, 0, 0)


@pytest.mark.parametrize("suffix", [".bmp", ".tif", ".tiff", ".gif", ".ppm", ".pgm", ".tga",
                                    pytest.param(".webp", marks=WEBP)])
def test_a_folder_of_one_other_format_is_an_image_dataset(tmp_path, suffix):
    from gankit.tasks import data_source

    folder = tmp_path / suffix.strip(".")
    for i in range(3):
        pixels = np.zeros((6, 6), np.uint8)
        pixels[:, i] = 255
        image = Image.fromarray(pixels)
        _save(folder, f"{i}{suffix}", image, **({"lossless": True} if suffix == ".webp" else {}))
    assert suffix in IMAGE_SUFFIXES
    assert ImageFolder.accepts(str(folder))  # before: "no dataset reads '.../bmp'"
    assert data_source(str(folder)) == ("images", {"path": str(folder)})
    images = load_folder(folder, 6, 1)
    assert images.shape == (3, 1, 6, 6)
    for i in range(3):
        assert np.all(images[i, 0, :, i] == 255) and images[i, 0].sum() == 6 * 255


def test_an_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("L", (4, 4), 10), Image.new("L", (4, 4), 200)]
    _save(tmp_path / "gif", "a.gif", frames[0], save_all=True, append_images=frames[1:])
    images = load_folder(tmp_path / "gif", 4, 0)
    assert images.shape == (1, 1, 4, 4) and np.all(images == 10)


def test_every_unreadable_file_is_named(tmp_path, capsys):
    _save(tmp_path / "two", "good.png", Image.new("L", (4, 4)))
    for name in ("bad.png", "notanimage.png"):
        (tmp_path / "two" / name).write_bytes(b"not an image")
    assert len(load_folder(tmp_path / "two", 4, 0)) == 1
    err = capsys.readouterr().err
    assert "skipped 2 unreadable image file(s)" in err and "'bad.png', 'notanimage.png'" in err
    _save(tmp_path / "many", "good.png", Image.new("L", (4, 4)))
    for i in range(8):
        (tmp_path / "many" / f"bad{i}.jpg").write_bytes(b"junk")
    load_folder(tmp_path / "many", 4, 0)
    err = capsys.readouterr().err
    assert "'bad0.jpg', 'bad1.jpg', 'bad2.jpg', 'bad3.jpg', 'bad4.jpg' and 3 more" in err
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / "x.webp").write_bytes(b"junk")
    (tmp_path / "none" / "y.bmp").write_bytes(b"junk")
    with pytest.raises(GankitError, match="none of the 2 image files under .*'x.webp', 'y.bmp'"):
        load_folder(tmp_path / "none", 4, 0)


def test_save_grid_lays_images_out_like_torchvision(tmp_path):
    from gankit.tasks.pixels import save_grid

    images = np.stack([np.full((8, 6), 10 * (i + 1), np.uint8) for i in range(10)])  # 8 high, 6 wide
    assert save_grid(images, tmp_path / "g.png", nrow=4) == (3, 4)
    picture = np.asarray(Image.open(tmp_path / "g.png"))
    assert picture.shape == (3 * (8 + 2) + 2, 4 * (6 + 2) + 2)  # 32 x 34, one channel
    assert np.all(picture[2:10, 2:8] == 10) and np.all(picture[12:20, 2:8] == 50)  # row by row
    assert np.all(picture[22:30, 10:16] == 100) and np.all(picture[22:30, 18:24] == 128)  # empty cell
    assert picture[0, 0] == 128 and picture[10:12, 2].tolist() == [128, 128]  # 2-pixel padding
    assert save_grid(images, tmp_path / "square.png") == (3, 4)  # default: ceil(sqrt(10)) per row
    assert save_grid(images[:3], tmp_path / "few.png", nrow=8) == (1, 3)  # at most n per row
    assert np.asarray(Image.open(tmp_path / "few.png")).shape == (12, 3 * 8 + 2)
    rgb = np.zeros((5, 4, 4, 3), np.uint8)
    save_grid(rgb, tmp_path / "rgb.png", nrow=2)
    assert np.asarray(Image.open(tmp_path / "rgb.png")).shape == (3 * 6 + 2, 2 * 6 + 2, 3)
    with pytest.raises(GankitError, match="must name a .png file, got 'g.jpg'"):
        save_grid(images, tmp_path / "g.jpg")
    with pytest.raises(GankitError, match="does not exist"):
        save_grid(images, tmp_path / "no" / "g.png")


def test_an_image_runs_out_without_a_slash_names_every_accepted_form(tmp_path):
    for name, hint in (("digits_noslash", f"write '{tmp_path / 'digits_noslash'}/'"),
                       ("x.txt", "write"), ("x.png", f"--grid {tmp_path / 'x.png'}")):
        with pytest.raises(GankitError) as caught:
            Digits.check_output(tmp_path / name, folder_form=False)
        message = str(caught.value)
        assert message.startswith(f"--out must be DIR/ (a folder of PNG files) or FILE.npy, got '{name}'")
        assert hint in message

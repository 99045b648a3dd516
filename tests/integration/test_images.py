"""Image tasks, the dcgan architecture and the image metrics, on the digits and on small
pictures the tests draw themselves (bars of a few widths and positions)."""

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import gankit
from gankit.api.training import resume
from gankit.cli import main
from gankit.config import ModelConfig
from gankit.core.errors import GankitError
from gankit.nets.population import build_networks
from gankit.tasks import data_source, make_task
from gankit.tasks.image_metrics import frechet_distance
from gankit.tasks.images import ImageFolder, arrangement, decode_to_uint8
from helpers import bars

TINY = {"model.options": {"width": 8}, "model.noise_dim": 16, "log.eval_every": 50, "log.log_every": 25,
        "log.snapshot_every": 50, "log.checkpoint_every": 50}


def write_pngs(folder, images, mode="L"):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).convert(mode).save(folder / f"{i:03d}.png")


# --- data ---------------------------------------------------------------------------------

def test_digits_shape_split_and_round_trip():
    task = make_task("digits")
    assert task.shape == (1, 8, 8) and task.images.dtype == np.uint8 and len(task.images) == 1797
    assert len(task.train_index) + len(task.reference_index) + len(task.floor_index) == 1797
    order = arrangement(1797, 0.4)  # training images first, then the two held-out halves
    assert sorted(order) == list(range(1797)) and len(task.floor_index) == 359
    np.testing.assert_array_equal(task.labels, load_digits().target[order])
    x = task.encode(task.images[:5, 0])
    assert x.shape == (5, 1, 8, 8) and x.min() >= -1 and x.max() <= 1
    np.testing.assert_array_equal(task.decode(x), task.images[:5, 0])  # uint8 -> [-1, 1] -> uint8
    batch = task.sampler(torch.Generator().manual_seed(0)).draw(64)
    assert batch.shape == (64, 1, 8, 8) and batch.dtype == torch.float32
    assert make_task("digits", {"size": 32}).shape == (1, 32, 32)
    with pytest.raises(GankitError, match="data.size must be one of 8, 16, 32"):
        make_task("digits", {"size": 12})


def test_folder_of_pngs_grayscale_rgb_mixed_size_and_unreadable(tmp_path, capsys):
    write_pngs(tmp_path / "gray", bars(70))
    (tmp_path / "gray" / "sub").mkdir()
    write_pngs(tmp_path / "gray" / "sub", [np.full((12, 20), 200, np.uint8)])  # another size, recursively
    (tmp_path / "gray" / "broken.png").write_bytes(b"not a png")
    assert ImageFolder.accepts(str(tmp_path / "gray"))
    assert data_source(str(tmp_path / "gray")) == ("images", {"path": str(tmp_path / "gray")})
    task = make_task("images", {"path": str(tmp_path / "gray"), "size": 8, "holdout": 0.5})
    assert "skipped 1 unreadable" in capsys.readouterr().err
    assert task.shape == (1, 8, 8) and len(task.images) == 71  # grayscale files: one channel
    wide = task.images[np.all(task.images == 200, axis=(1, 2, 3))]
    assert len(wide) == 1  # the 20x12 picture, resized to 8 high and centre-cropped to 8x8
    rgb = make_task("images", {"path": str(tmp_path / "gray"), "size": 16, "channels": 3, "holdout": 0.5})
    assert rgb.shape == (3, 16, 16)
    write_pngs(tmp_path / "colour", bars(70), mode="RGB")
    assert make_task("images", {"path": str(tmp_path / "colour"), "holdout": 0.5}).shape == (3, 32, 32)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.png").write_bytes(b"junk")
    with pytest.raises(GankitError, match="could be read"):
        make_task("images", {"path": str(tmp_path / "bad")})
    with pytest.raises(GankitError, match="too few"):
        make_task("images", {"path": str(tmp_path / "gray"), "size": 8})  # 0.2 of 71: 14 held out


def test_arrays_in_npy_and_npz(tmp_path):
    np.save(tmp_path / "gray.npy", bars(80, size=8))
    np.savez(tmp_path / "rgb.npz", labels=np.arange(80), x=np.repeat(bars(80, 16)[..., None], 3, -1) / 255.0)
    np.save(tmp_path / "table.npy", np.zeros((80, 5)))
    assert ImageFolder.accepts(str(tmp_path / "gray.npy")) and ImageFolder.accepts(str(tmp_path / "rgb.npz"))
    assert not ImageFolder.accepts(str(tmp_path / "table.npy"))  # 2-D: a table, not images
    gray = make_task("images", {"path": str(tmp_path / "gray.npy"), "size": 8, "holdout": 0.5})
    # no resizing at the same size; stored training images first, then the held-out ones
    np.testing.assert_array_equal(gray.images[:, 0], bars(80, size=8)[arrangement(80, 0.5)])
    rgb = make_task("images", {"path": str(tmp_path / "rgb.npz"), "size": 8, "holdout": 0.5})
    assert rgb.shape == (3, 8, 8)
    np.save(tmp_path / "wild.npy", np.full((80, 8, 8), 300.0))
    with pytest.raises(GankitError, match="range over"):
        make_task("images", {"path": str(tmp_path / "wild.npy"), "size": 8})


# --- the dcgan architecture ---------------------------------------------------------------

@pytest.mark.parametrize("size", [8, 16, 32])
def test_dcgan_shapes_members_and_pack(size):
    for members in (1, 3):
        for pack in (1, 2):
            model = ModelConfig(arch="dcgan", options={"width": 4}, noise_dim=8, pack=pack)
            g, d = build_networks(model, (3, size, size), list(range(members)))
            x = g(torch.randn(members, 4, 8))
            assert x.shape == (members, 4, 3, size, size)
            assert d(x.reshape(members, 4 // pack, 3 * pack, size, size)).shape == (members, 4 // pack)
    with pytest.raises(GankitError, match="power-of-two"):
        build_networks(ModelConfig(arch="dcgan"), (1, 12, 12), [0])
    with pytest.raises(GankitError, match="spectral_norm"):
        build_networks(ModelConfig(arch="dcgan", spectral_norm=True), (1, 8, 8), [0])
    with pytest.raises(GankitError, match="g_norm must be 'layer'"):
        build_networks(ModelConfig(arch="dcgan", options={"g_norm": "batch"}), (1, 8, 8), [0])


def test_dcgan_member_equals_a_single_run():
    model = ModelConfig(arch="dcgan", options={"width": 4, "d_norm": "layer"}, noise_dim=8)
    g3, d3 = build_networks(model, (1, 16, 16), [5, 6, 7])
    g1, d1 = build_networks(model, (1, 16, 16), [6])
    z = torch.randn(1, 10, 8)
    torch.testing.assert_close(g3(z.expand(3, -1, -1))[1], g1(z)[0])
    x = torch.randn(1, 10, 1, 16, 16)
    torch.testing.assert_close(d3(x.expand(3, *x.shape[1:]))[1], d1(x)[0])


@pytest.mark.parametrize("loss,penalty", [("nonsaturating", {"train.r1": 1.0}),
                                          ("nonsaturating", {"train.r2": 1.0}),
                                          ("wasserstein_gp", {}), ("wasserstein", {}), ("hinge", {})])
def test_dcgan_with_every_penalty_under_vmap(loss, penalty):
    from gankit.config import shortcut_overrides
    from gankit.config.resolve import resolve_config
    from gankit.training.trainer import Trainer

    trainers = {}
    for seed, seeds in ((0, 2), (1, 1)):
        config = resolve_config("digits", None, shortcut_overrides(
            loss=loss, seed=seed, seeds=seeds, batch_size=8,
            set={**TINY, "model.options": {"width": 4}, "model.pack": 2, **penalty}))
        trainers[seeds] = trainer = Trainer.from_config(config)
        for _ in range(2):
            stats = trainer.step()
        assert torch.isfinite(stats.d_loss).all()
        assert all(torch.isfinite(v).all() for v in stats.terms.values())
    pair, single = trainers[2], trainers[1]  # member 1 of the pair is the single run with seed 1
    torch.testing.assert_close(pair.generator.state_dict()["0__weight"][1],
                               single.generator.state_dict()["0__weight"][0])


# --- metrics ------------------------------------------------------------------------------

def test_frechet_distance_known_values():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-9)
    # N(0, I) against N(m, 4 I): |m|^2 + 3 (1 + 4 - 2 * 2) = |m|^2 + 3
    b = 2 * rng.standard_normal((4000, 3)) + np.array([1.0, 0, 0])
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=0.1)


def test_digit_classifier_and_its_metrics():
    task = make_task("digits")
    scorer = task.scorer()
    held = np.concatenate([task.reference_index, task.floor_index])
    x = torch.as_tensor(task.images[held], dtype=torch.float32) / 127.5 - 1
    accuracy = (scorer.space.probabilities(x).argmax(1) == task.labels[held]).mean()
    assert accuracy >= 0.95  # measured 0.960
    real = task.encode(task.images[task.train_index[:400], 0]).numpy()  # real, unseen by the metrics
    m = task.metrics(real)
    assert m["classes_covered"] == 10 and m["class_kl"] < 0.05
    assert m["fd"] < 3 * m["fd_floor"] and m["feature_coverage"] > 0.9
    three = task.images[task.train_index][task.labels[task.train_index] == 3][:1, 0]
    one_class = task.metrics(task.encode(np.repeat(three, 400, axis=0)).numpy())
    assert one_class["classes_covered"] == 1 and one_class["class_kl"] > 1.5
    assert one_class["fd"] > 20 * m["fd"]
    noise = np.random.default_rng(0).uniform(-1, 1, (359, 1, 8, 8)).astype(np.float32)
    assert task.metrics(noise)["fd"] > 20 * m["fd_floor"]


# --- training ---------------------------------------------------------------------------

def _digits(out, steps, **kw):
    return gankit.train(data="digits", out=out, steps=steps, set=TINY, figures=False, **kw)


def test_short_digits_run_lowers_fd(tmp_path):
    run = _digits(tmp_path / "r", 200)
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    first, last = (next(r for r in order if "fd" in r) for order in (rows, rows[::-1]))
    untrained = gankit.train(data="digits", out=tmp_path / "u", steps=1, set=TINY, figures=False).summary
    # measured: fd 295 untrained, 249 at step 50, 75 at step 200; classes_covered 1 -> 3
    assert last["step"] == 200 and last["fd"] < 0.5 * untrained["fd"]
    assert first["fd"] > last["fd"] and last["classes_covered"] > untrained["classes_covered"]
    images = run.sample(10, seed=0)
    assert images.shape == (10, 8, 8) and images.dtype == np.uint8


def test_reference_classifier_is_kept_in_the_run_folder(tmp_path):
    from gankit.api.run import Run

    run = _digits(tmp_path / "r", 2)
    path = tmp_path / "r" / "reference_classifier.pt"
    weights = torch.load(path, weights_only=True)["weights"]
    with torch.no_grad():  # a classifier that differs from a fresh training: the saved one is used
        for value in weights.values():
            value.mul_(2)
    torch.save({"version": 1, "weights": weights}, path)
    assert Run.load(tmp_path / "r").evaluate()["fd"] != run.summary["fd"]
    path.write_bytes(b"garbage")  # unreadable: trained again, the same weights as at first
    assert Run.load(tmp_path / "r").evaluate()["fd"] == run.summary["fd"]


def test_image_population_resumes_bit_exactly(tmp_path):
    straight = _digits(tmp_path / "straight", 60, seeds=2)
    _digits(tmp_path / "split", 50, seeds=2)
    resumed = resume(tmp_path / "split", steps=60, figures=False)
    assert torch.equal(resumed.trainer.g_flat, straight.trainer.g_flat)
    assert torch.equal(resumed.trainer.d_flat, straight.trainer.d_flat)
    assert resumed.summary == straight.summary


def test_sample_writes_pngs_and_figures_draw_grids(tmp_path, capsys):
    from PIL import Image

    run = gankit.train(data="digits", out=tmp_path / "r", steps=20, set=TINY)
    assert {"final.png", "progress.png", "training.gif", "nearest.png", "class_hist.png"} <= {
        p.name for p in (tmp_path / "r" / "figures").iterdir()}
    out = str(tmp_path / "png") + "/"
    assert main(["sample", str(tmp_path / "r"), "--n", "3", "--seed", "1", "--out", out]) == 0
    files = sorted((tmp_path / "png").iterdir())
    assert [f.name for f in files] == ["000000.png", "000001.png", "000002.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(files[0])), run.sample(3, seed=1)[0])
    before = files[0].read_bytes()
    assert main(["sample", str(tmp_path / "r"), "--n", "3", "--out", out]) == 2  # no overwriting
    assert files[0].read_bytes() == before
    assert main(["sample", str(tmp_path / "r"), "--n", "3", "--out", str(tmp_path / "x.npy")]) == 0
    assert np.load(tmp_path / "x.npy").shape == (3, 8, 8)
    assert main(["sample", str(tmp_path / "r"), "--n", "3", "--out", str(tmp_path / "x.csv")]) == 2
    assert "CSV" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


def test_sample_grid_draws_one_png_of_the_samples(tmp_path, capsys):
    from PIL import Image

    from gankit.api.run import Run

    run = _digits(tmp_path / "r", 2)
    grid = tmp_path / "grid.png"
    assert main(["sample", str(tmp_path / "r"), "--grid", str(grid), "--n", "10", "--nrow", "4",
                 "--seed", "1"]) == 0
    assert f"wrote 10 images as one grid to {grid}" in capsys.readouterr().out
    picture = np.asarray(Image.open(grid))
    assert picture.shape == (3 * (8 + 2) + 2, 4 * (8 + 2) + 2)  # 3 rows of 4 8x8 digits, 2-pixel padding
    images = run.sample(10, seed=1)
    np.testing.assert_array_equal(picture[2:10, 2:10], images[0])
    np.testing.assert_array_equal(picture[22:30, 12:20], images[9])  # row 3, column 2
    assert main(["sample", str(tmp_path / "r"), "--grid", str(grid), "--seed", "1"]) == 0
    assert np.asarray(Image.open(grid)).shape == (82, 82)  # 64 images by default, 8 per row
    out = str(tmp_path / "png") + "/"  # --out and --grid together: the same samples in both
    assert main(["sample", str(tmp_path / "r"), "--grid", str(grid), "--out", out, "--n", "5"]) == 0
    first = np.asarray(Image.open(tmp_path / "png" / "000000.png"))
    np.testing.assert_array_equal(np.asarray(Image.open(grid))[2:10, 2:10], first)
    path = Run.load(tmp_path / "r").save_grid(tmp_path / "api.png", 6, nrow=3, seed=1)
    assert np.asarray(Image.open(path)).shape == (22, 32)
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "r"), "--grid", str(tmp_path / "g.jpg")]) == 2
    assert "--grid must name a .png file, got 'g.jpg'" in capsys.readouterr().err


def test_grid_is_refused_for_a_run_that_is_not_of_images(tmp_path, capsys):
    folder = tmp_path / "ring_run"  # only its config.toml: the refusal comes before any loading
    folder.mkdir()
    (folder / "config.toml").write_text('[data]\nname = "ring"\n')
    assert main(["sample", str(folder), "--grid", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert "--grid draws a picture of images, but this run's data ('ring') are not images" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "g.png").exists()
    assert main(["sample", str(folder)]) == 2  # neither --out nor --grid
    assert "--out FILE or DIR/" in capsys.readouterr().err
    assert main(["sample", str(folder), "--out", str(tmp_path / "x.npy"), "--nrow", "4"]) == 2
    assert "--nrow sets the images per row of --grid" in capsys.readouterr().err


def test_out_without_a_slash_names_the_folder_form(tmp_path, capsys):
    folder = tmp_path / "digits_run"
    folder.mkdir()
    (folder / "config.toml").write_text('[data]\nname = "digits"\n')
    assert main(["sample", str(folder), "--out", str(tmp_path / "digits_noslash")]) == 2
    err = capsys.readouterr().err
    assert "--out must be DIR/ (a folder of PNG files) or FILE.npy, got 'digits_noslash'" in err
    assert f"write '{tmp_path / 'digits_noslash'}/'" in err


@pytest.mark.parametrize("suffix", [".bmp", ".webp"])
def test_a_folder_of_bmp_or_webp_files_trains(tmp_path, suffix):
    from PIL import Image, features

    if suffix == ".webp" and not features.check("webp"):
        pytest.skip("this Pillow was built without WebP support")
    folder = tmp_path / "pictures"
    folder.mkdir()
    options = {"lossless": True} if suffix == ".webp" else {}
    for i, image in enumerate(bars(70)):  # WebP keeps no grey mode: these come back as RGB
        Image.fromarray(image).save(folder / f"{i:03d}{suffix}", **options)
    run = gankit.train(data=str(folder) + "/", out=tmp_path / "r", steps=2, figures=False,
                       set={**TINY, "data.size": 8, "data.holdout": 0.5})
    assert run.config.data.name == "images" and run.summary["step"] == 2
    assert run.task.shape == ((1, 8, 8) if suffix == ".bmp" else (3, 8, 8))
    np.testing.assert_array_equal(run.task.images[:, 0], bars(70)[arrangement(70, 0.5)])


def test_decode_clips_and_lays_out_channels_last():
    x = np.array([[[[-2.0, 0.0], [1.0, 3.0]]] * 3])  # one 3-channel 2x2 image
    out = decode_to_uint8(x)
    assert out.shape == (1, 2, 2, 3) and out[0, 0, 0, 0] == 0 and out[0, 1, 1, 2] == 255


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_digits_population_on_cuda(tmp_path):
    run = gankit.train(data="digits", out=tmp_path / "r", steps=20, seeds=2, device="cuda",
                       set={**TINY, "train.r1": 1.0}, figures=True)
    assert run.trainer.g_flat.is_cuda and run.summary["step"] == 20
    assert all(np.isfinite(v) for v in run.summary["members"]["fd"])
    assert run.sample(4, seed=0).shape == (4, 8, 8)


def test_random_feature_metrics_of_a_folder(tmp_path):
    np.save(tmp_path / "bars.npy", bars(500, size=8, seed=1))
    task = make_task("images", {"path": str(tmp_path / "bars.npy"), "size": 8})
    real = task.encode(task.images[task.train_index[:50], 0]).numpy()
    m = task.metrics(real)
    assert set(m) == {f"{k}{s}" for k in ("fd", "feature_precision", "feature_recall", "feature_density",
                                          "feature_coverage") for s in ("", "_floor")}
    assert m["fd"] < 3 * m["fd_floor"] and m["feature_coverage"] > 0.8
    one = task.metrics(np.repeat(real[:1], 50, axis=0))  # a collapsed generator: one bar, 50 times
    assert one["feature_coverage"] < 0.3 and one["fd"] > 5 * m["fd"]
    pixels = task.general_metrics(None, real, None)  # the pixel-space metrics, disjoint halves
    assert pixels["coverage"] > 0.8 and pixels["coverage_floor"] > 0.8

"""The two presets for a folder of images: ``images`` sized for a CPU, ``images-gpu`` with
DCGAN's settings for long runs; and ``digits`` left as it was."""

import numpy as np
import pytest

from gankit.config import PRESET_HELP, PRESETS, preset
from gankit.config.resolve import data_preset, resolve_config
from gankit.training.trainer import Trainer


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    path = tmp_path_factory.mktemp("pictures") / "rgb.npy"
    np.save(path, np.random.default_rng(0).integers(0, 256, (200, 32, 32, 3), dtype=np.uint8))
    return str(path)


def _resolved(name, path):
    return resolve_config(name, overrides=[{"data": {"name": path}}])


def test_a_folder_of_images_takes_the_cpu_preset():
    assert data_preset("images") == "images"
    assert {"images", "images-gpu"} <= set(PRESETS) and set(PRESET_HELP) == set(PRESETS)
    assert "10 min on 2 cores" in PRESET_HELP["images"] and "GPU" in PRESET_HELP["images-gpu"]


def test_images_gpu_keeps_dcgans_settings(pictures):
    c = _resolved("images-gpu", pictures)
    assert (c.model.arch, c.model.options, c.model.noise_dim, c.model.pack) == ("dcgan", {"width": 32}, 32, 1)
    assert (c.train.steps, c.train.batch_size, c.train.loss, c.train.lr_g, c.train.lr_d) == \
        (10000, 64, "nonsaturating", 2e-4, 2e-4)
    assert c.train.betas_g == [0.5, 0.999] and c.train.betas_d == [0.5, 0.999] and c.train.ema == 0
    assert (c.log.eval_every, c.log.snapshot_every, c.log.checkpoint_every) == (500, 1000, 1000)
    assert c.data.name == "images" and c.data.params["path"] == pictures


def test_images_is_smaller_and_differs_only_where_meant(pictures):
    cpu, gpu = preset("images"), preset("images-gpu")
    meant = {("model", "options"), ("model", "pack"), ("train", "steps"), ("train", "batch_size"),
             ("train", "lr_g"), ("train", "lr_d"), ("train", "ema"), ("train", "r1"),
             ("log", "eval_every"), ("log", "snapshot_every"), ("log", "checkpoint_every")}
    differing = {(section, key) for section in ("model", "train", "log")
                 for key in cpu[section] if cpu[section][key] != gpu[section][key]}
    assert differing <= meant and {k for k in cpu if cpu[k] != gpu[k]} <= {"model", "train", "log"}
    c = _resolved("images", pictures)
    assert c.model.arch == "dcgan" and c.model.options["width"] < 32 and c.model.pack > 1
    assert c.train.batch_size <= 64 and c.train.batch_size % c.model.pack == 0
    assert 0 < c.train.steps < 10000 and c.train.ema > 0
    assert 100 <= c.log.eval_every <= c.train.steps // 5  # a few evaluations, each of them cheap


def test_the_images_preset_trains(pictures):
    trainer = Trainer.from_config(_resolved("images", pictures))
    stats = trainer.step()
    assert stats.d_loss.isfinite().all() and stats.g_loss.isfinite().all()


def test_digits_preset_is_unchanged():
    c = resolve_config("digits")
    assert (c.model.arch, c.model.options, c.model.noise_dim, c.model.pack) == ("dcgan", {"width": 32}, 32, 1)
    assert (c.train.steps, c.train.batch_size, c.train.loss, c.train.lr_g, c.train.lr_d, c.train.ema) == \
        (4000, 64, "nonsaturating", 2e-4, 2e-4, 0.0)
    assert c.train.betas_g == [0.5, 0.999] and c.train.betas_d == [0.5, 0.999]
    assert (c.log.log_every, c.log.eval_every, c.log.snapshot_every, c.log.checkpoint_every) == \
        (50, 500, 250, 1000)

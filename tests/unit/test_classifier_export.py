"""The reference classifier of the image runs (``classes_covered``, ``class_kl``, ``confidence``,
``conditional_accuracy``): its weights travel bit for bit in a saved state (what an exported
run holds), its training encodes the images a chunk at a time without changing a bit, and the
process's cache of trained classifiers is keyed by a digest, holding no copy of the images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gankit
from gankit.core.errors import GankitError
from gankit.tasks import image_metrics
from gankit.tasks.image_metrics import ImageClassifier, _encode, _pooled, _pooled_images
from gankit.tasks.saved import pack, unpack

TINY = {"model.options": {"width": 8}, "model.noise_dim": 16, "log.eval_every": 50, "log.log_every": 25,
        "log.snapshot_every": 50, "log.checkpoint_every": 50}


def squares(n=200, seed=0):
    """3x32x32 images of four classes, class k a bright square in quadrant k (channel k % 3)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    images = rng.integers(0, 60, (n, 3, 32, 32)).astype(np.uint8)
    for k in range(4):
        y, x = divmod(k, 2)
        images[labels == k, k % 3, 16 * y:16 * y + 16, 16 * x:16 * x + 16] += 150
    return images, labels


def _same_weights(a, b):
    a, b = a.net.state_dict(), b.net.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_classifier_state_gives_the_same_bits_back():
    images, labels = squares()
    classifier = ImageClassifier.trained(images[:150], labels[:150])
    accuracy = classifier.held_out_accuracy(images[150:], labels[150:])
    text, data = pack({"classifier": classifier.state()})  # as a run folder's or an export's data
    state = unpack(text, data)["classifier"]
    back = ImageClassifier.from_state(state, 3, 4)
    assert _same_weights(back, classifier) and back.side == 16 and back.accuracy == accuracy
    x = torch.as_tensor(images[150:], dtype=torch.float32) / 127.5 - 1
    np.testing.assert_array_equal(back.probabilities(x), classifier.probabilities(x))
    assert ImageClassifier.from_state(state, 3, 5) is None  # not these classes
    assert ImageClassifier.from_state(state, 1, 4) is None  # not these channels
    assert ImageClassifier.from_state({**state, "side": 0}, 3, 4) is None
    assert ImageClassifier.from_state({"side": 16}, 3, 4) is None
    fresh = ImageClassifier.trained(images[:150], labels[:150])  # accuracy not measured: None
    assert fresh.state()["accuracy"] is None
    assert np.isnan(ImageClassifier.from_state(fresh.state(), 3, 4).accuracy)


def test_chunked_encoding_changes_no_bit_and_the_cache_holds_digests(monkeypatch):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (50, 1, 24, 24), dtype=np.uint8)  # 24 -> 16: uneven pooling windows
    monkeypatch.setattr(image_metrics, "ENCODE_CHUNK", 7)
    assert torch.equal(_pooled_images(images, 16), _pooled(_encode(images), 16))
    images, labels = squares()
    monkeypatch.setattr(image_metrics, "_TRAINED", {})
    chunked = ImageClassifier.trained(images, labels)
    assert ImageClassifier.trained(images.copy(), labels.copy()).net is chunked.net  # trained once
    monkeypatch.setattr(image_metrics, "ENCODE_CHUNK", 4096)
    monkeypatch.setattr(image_metrics, "_TRAINED", {})
    assert _same_weights(ImageClassifier.trained(images, labels), chunked)
    other = labels.copy()
    other[0] = (other[0] + 1) % 4
    ImageClassifier.trained(images, other)
    keys = list(image_metrics._TRAINED)
    assert len(keys) == 2 and all(isinstance(digest, str) and len(digest) == 64 for digest, _, _ in keys)


def test_an_exported_digits_run_scores_with_its_folders_classifier(tmp_path):
    """The folder's ``reference_classifier.pt`` (made to differ from a fresh training here) is
    the one the exported run scores with: the export carries it."""
    from gankit.api.artifact import export

    gankit.train(data="digits", out=tmp_path / "r", steps=2, set=TINY, figures=False)
    path = tmp_path / "r" / "reference_classifier.pt"
    weights = torch.load(path, weights_only=True)["weights"]
    with torch.no_grad():
        for value in weights.values():
            value.mul_(2)
    torch.save({"version": 1, "weights": weights}, path)
    run = gankit.Run.load(tmp_path / "r")
    model = gankit.load(export(run, tmp_path / "m.pt"))
    assert _same_weights(model.task.reference_classifier(), run.task.reference_classifier())
    assert model.evaluate() == run.evaluate()


def test_a_saved_classifier_that_does_not_fit_is_refused_in_one_line():
    from gankit.tasks.images import Digits

    state = Digits().saved_state()
    classifier = ImageClassifier.from_state(state["classifier"], 1, 10)
    assert classifier is not None and _same_weights(classifier, Digits().reference_classifier())
    weights = dict(state["classifier"]["weights"])
    weights["head.weight"] = weights["head.weight"][:3]
    broken = {**state, "classifier": {**state["classifier"], "weights": weights}}
    with pytest.raises(GankitError, match="does not fit the run's 1-channel images and 10 classes"):
        Digits.from_saved_state({}, broken)

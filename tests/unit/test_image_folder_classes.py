"""An image folder's classes: read from its first-level sub-folders (torchvision's ImageFolder
convention), refused in one line for a conditional run where there are none, asked for by name,
and the reference classifier of any channels, size and number of classes."""

import numpy as np
import pytest
import torch

from gankit.core.errors import GankitError
from gankit.tasks import make_task
from gankit.tasks.image_io import folder_classes, load_folder, read_folder
from gankit.tasks.image_metrics import ImageClassifier


def save(folder, images, names=None):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / (names[i] if names else f"{i:03d}.png"))


def shades(n, value, size=8):
    return [np.full((size, size), value, np.uint8) for _ in range(n)]


def test_labels_and_class_names_come_from_the_first_level_sub_folders(tmp_path, capsys):
    save(tmp_path / "dog", shades(3, 200))
    save(tmp_path / "cat", shades(2, 50))
    save(tmp_path / "cat" / "indoor" / "deep", shades(1, 60))  # deeper: still a cat
    (tmp_path / "dog" / "broken.png").write_bytes(b"not a png")  # skipped, so no label either
    (tmp_path / "empty").mkdir()  # no images: no class
    read = read_folder(tmp_path, 4, 0)
    assert "skipped 1 unreadable" in capsys.readouterr().err
    assert read.class_names == ("cat", "dog")  # sorted by name
    # sorted paths: cat/000, cat/001, cat/indoor/deep/000, dog/000, dog/001, dog/002
    assert read.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert read.images[:, 0, 0, 0].tolist() == [50, 50, 60, 200, 200, 200]
    np.testing.assert_array_equal(load_folder(tmp_path, 4, 0), read.images)  # the same images as before


def test_a_flat_or_mixed_folder_has_no_classes(tmp_path):
    assert folder_classes([tmp_path / "a.png", tmp_path / "b.png"], tmp_path).labels is None
    mixed = folder_classes([tmp_path / "a.png", tmp_path / "cat" / "b.png"], tmp_path)
    assert mixed.labels is None and mixed.top_level == ("a.png",)


@pytest.fixture
def classes(tmp_path):
    """40 dark, 40 grey and 40 bright 8x8 images in three sub-folders."""
    for name, value in (("bright", 220), ("dark", 20), ("grey", 120)):
        save(tmp_path / "classes" / name, shades(40, value))
    return tmp_path / "classes"


def test_a_conditional_run_needs_sub_folders_and_says_why(classes, tmp_path):
    params = {"size": 8, "holdout": 0.5, "condition": ["class"]}
    task = make_task("images", {"path": str(classes), **params})
    assert task.condition_width == 3 and task.class_names == ("bright", "dark", "grey")
    assert task.class_counts.sum() == len(task.train_index)
    save(tmp_path / "flat", shades(80, 100))
    with pytest.raises(GankitError, match="has no sub-folders of images") as error:
        make_task("images", {"path": str(tmp_path / "flat"), **params})
    assert "\n" not in str(error.value)
    save(classes, shades(2, 100))  # loose files beside the classes
    with pytest.raises(GankitError, match=r"2 image file\(s\) sit directly in .*'000.png', '001.png'"):
        make_task("images", {"path": str(classes), **params})
    np.save(tmp_path / "array.npy", np.zeros((80, 8, 8), np.uint8))
    with pytest.raises(GankitError, match="an array file has no classes"):
        make_task("images", {"path": str(tmp_path / "array.npy"), **params})
    save(tmp_path / "one" / "only", shades(80, 100))
    with pytest.raises(GankitError, match="two classes or more.*'only'"):
        make_task("images", {"path": str(tmp_path / "one"), **params})
    with pytest.raises(GankitError, match="accepted: class"):
        make_task("images", {"path": str(tmp_path / "one"), **params, "condition": ["label"]})


def test_an_unconditional_run_of_a_folder_of_classes_is_unchanged(classes):
    task = make_task("images", {"path": str(classes), "size": 8, "holdout": 0.5})
    assert task.condition_width == 0 and task.labels is not None  # labels kept, not used
    batch = task.sampler(torch.Generator().manual_seed(0)).draw(5)
    assert batch.shape == (5, 1, 8, 8)  # no class planes
    assert "class_kl" not in task.metrics(task.encode(task.images[task.floor_index][:, 0]).numpy())


def test_a_class_is_asked_for_by_its_name_or_index(classes, tmp_path):
    task = make_task("images", {"path": str(classes), "size": 8, "holdout": 0.5, "condition": "class"})
    assert task.condition_vector({"class": "grey"}, 2).tolist() == [[0, 0, 1]] * 2
    assert task.condition_vector({"class": 1}, 1).tolist() == [[0, 1, 0]]  # an index: no name is a number
    typo = r"got 'gray' \(did you mean 'grey'\?\); accepted: bright, dark, grey"
    with pytest.raises(GankitError, match=typo):
        task.condition_vector({"class": "gray"}, 1)
    with pytest.raises(GankitError, match="an index 0 to 2"):
        task.condition_vector({"class": 3}, 1)
    for name in ("1", "7"):  # sub-folders named by numbers: the name is asked for, never an index
        save(tmp_path / "numbers" / name, shades(40, int(name) * 30))
    numbers = make_task("images", {"path": str(tmp_path / "numbers"), "size": 8, "holdout": 0.5,
                                   "condition": ["class"]})
    assert numbers.condition_vector({"class": "7"}, 1).tolist() == [[0, 1]]
    with pytest.raises(GankitError, match=r"sub-folder's name, got '0'; accepted: 1, 7"):
        numbers.condition_vector({"class": "0"}, 1)


def test_the_reference_classifier_takes_any_channels_size_and_classes(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 200)
    images = rng.integers(0, 60, (200, 3, 32, 32)).astype(np.uint8)
    for k in range(4):  # class k: a bright square in quadrant k, in channel k % 3
        y, x = divmod(k, 2)
        images[labels == k, k % 3, 16 * y:16 * y + 16, 16 * x:16 * x + 16] += 150
    classifier = ImageClassifier.trained(images[:150], labels[:150])
    assert classifier.side == 16 and classifier.features(torch.zeros(2, 3, 32, 32)).shape == (2, 32)
    assert classifier.held_out_accuracy(images[150:], labels[150:]) > 0.95
    path = tmp_path / "classifier.pt"
    classifier.save(path)
    x = torch.as_tensor(images[150:], dtype=torch.float32) / 127.5 - 1
    loaded = ImageClassifier.load(path, 3, 4)
    np.testing.assert_array_equal(loaded.probabilities(x), classifier.probabilities(x))
    assert ImageClassifier.load(path, 3, 5) is None  # not this run's classes: trained again

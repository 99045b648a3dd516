"""The names the command checks before torch loads are exactly those gankit registers, and a
``--data`` path is answered by what is wrong with it."""

import json
import subprocess
import sys

import pytest

from gankit.config.builtins import BUILTIN_NAMES, check_data_source, looks_like_path
from gankit.core.errors import GankitError

FRESH_REGISTRIES = """
import json
from gankit.nets import ACTIVATIONS, ARCHITECTURES
from gankit.objectives import OBJECTIVES
from gankit.tasks import TASKS
print(json.dumps({"dataset": TASKS.names(), "objective": OBJECTIVES.names(),
                  "activation": ACTIVATIONS.names(), "architecture": ARCHITECTURES.names()}))
"""


def test_builtin_names_equal_a_fresh_import_of_the_registries():
    # In a fresh process: other tests register extra names into the shared registries.
    out = subprocess.run([sys.executable, "-c", FRESH_REGISTRIES], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == {kind: sorted(names) for kind, names in BUILTIN_NAMES.items()}


def test_a_dataset_name_is_not_a_path():
    assert not looks_like_path("ring")
    assert looks_like_path("data/p.csv") and looks_like_path("p.csv") and looks_like_path("pics/")


@pytest.mark.parametrize("name", ["parabola", "digits", "mnist"])
def test_names_are_left_to_the_validation(name):
    check_data_source(name)  # no error: an unknown name gets its did-you-mean from validation


def test_missing_file_folder_and_empty_file_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "pics").mkdir()
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    for source, message in [("missing.csv", "no such file: 'missing.csv'"),
                            ("nonexist/", "no such folder: 'nonexist/'"),
                            ("empty.npy", "'empty.npy' is empty")]:
        with pytest.raises(GankitError, match=message):
            check_data_source(source)
    check_data_source("pics/")
    check_data_source("t.csv")

"""Registries: a lazily registered item is named like any other, made once on first use, and
keeps its heavy imports (pandas, for tables) out of the runs that never use it."""

import subprocess
import sys

import pytest

from gankit.core.errors import GankitError
from gankit.core.registry import Registry


def test_a_lazy_item_is_listed_and_made_once_on_first_use():
    made = []
    registry: Registry[str] = Registry("thing")
    registry.register("plain")("p")
    registry.register_lazy("heavy", lambda: made.append(1) or "h")
    assert registry.names() == ["heavy", "plain"] and "heavy" in registry and made == []
    assert registry.get("heavy") == "h" and registry.get("heavy") == "h"
    assert made == [1]


def test_a_lazy_name_is_taken_and_an_unknown_name_gets_a_suggestion():
    registry: Registry[str] = Registry("thing")
    registry.register_lazy("table", lambda: "t")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("table")("again")
    with pytest.raises(GankitError, match="did you mean 'table'"):
        registry.get("tabel")


def test_a_loader_that_fails_leaves_its_name_registered():
    registry: Registry[str] = Registry("thing")
    registry.register_lazy("table", lambda: __import__("no_such_module_here"))
    with pytest.raises(ModuleNotFoundError):
        registry.get("table")
    assert "table" in registry and registry.names() == ["table"]


IMPORTS = """
import sys
from gankit.tasks import TASKS, make_task
make_task("parabola")
before = "pandas" in sys.modules
TASKS.get("table")
print(before, "pandas" in sys.modules)
"""


def test_pandas_is_imported_by_the_table_task_only():
    out = subprocess.run([sys.executable, "-c", IMPORTS], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]

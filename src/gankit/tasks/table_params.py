"""A table's reading parameters checked before the file is read: each bad one answered in one
line that names the accepted values (``data.sep``, ``decimal``, ``encoding``, ``na_values``,
``types`` and the lists of column names)."""

from __future__ import annotations

import codecs
from typing import Any

from gankit.core.errors import GankitError
from gankit.tasks.conditions import name_list
from gankit.tasks.table_kinds import check_types

SEP_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def column_list(key: str, value: Any) -> tuple[str, ...]:
    """A list of column names in any of the forms :func:`gankit.tasks.base.name_list` reads."""
    return name_list(key, value)


def check_reading(task: Any) -> None:
    """The reading parameters of ``task`` (a :class:`gankit.tasks.table.Table`) checked, and
    put in their plain form: data.sep, decimal, encoding, na_values and types."""
    task.na_values = column_list("na_values", task.na_values)
    task.types = check_types(task.types)
    task.sep = SEP_NAMES.get(task.sep, task.sep)
    if not isinstance(task.sep, str) or len(task.sep) > 1 or task.sep in ('"', "\n", "\r"):
        raise GankitError(f"data.sep must be one character (',', ';', '|', tab), or '' to sniff it, "
                          f"got {task.sep!r}")
    if task.decimal not in ("", ".", ","):
        raise GankitError(f"data.decimal must be '.' or ',' (or '' to sniff it), got {task.decimal!r}")
    try:
        codecs.lookup(task.encoding or "utf-8")
    except (LookupError, TypeError):
        raise GankitError(f"data.encoding {task.encoding!r} is not an encoding Python knows (e.g. "
                          "utf-8, latin-1, cp1252, utf-16)") from None

"""Errors a user can act on.

Anything raised as :class:`GankitError` is bad input (a config, a file, a flag), not a bug:
the CLI prints its message on one line and exits with status 2, without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GankitError(Exception):
    """Bad input from the user; the message names the problem and what is accepted."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' hint for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""

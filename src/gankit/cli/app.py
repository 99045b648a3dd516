"""The ``gankit`` command: a thin layer that turns arguments into calls of the Python API.

:func:`main` parses (:mod:`gankit.cli.parser`), runs one command (:mod:`gankit.cli.commands`) and
turns what can go wrong into one line on stderr and an exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# Only light modules at import: torch and matplotlib load when a command needs them, so that
# ``gankit --help`` and a mistyped flag are answered at once.
from gankit.cli.commands import COMMANDS
from gankit.cli.parser import build_parser
from gankit.cli.precheck import precheck
from gankit.core.console import say
from gankit.core.errors import GankitError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        precheck(args)  # what the arguments alone show to be wrong, answered before torch loads
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:  # before training started or after it ended: nothing to save
        say("gankit: interrupted")
        return 130
    except BrokenPipeError:  # `gankit ... | head`: the reader has what it wanted; the run is saved
        # Python would report the pipe again when it flushes stdout at exit: point it elsewhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command stopped by a closed pipe
    except GankitError as exc:
        exit_code = getattr(exc, "exit_code", None)  # run.Interrupted: a signal stopped training
        if exit_code is not None:
            say(f"gankit: {exc}")
            return int(exit_code)
        if args.debug or args.debug_anywhere:
            raise
        say(f"gankit: error: {exc}")
        return 2

"""Lines for the user on stderr, each written whole.

``print(text, file=sys.stderr)`` issues two writes (the text, then the newline) because
Python's stderr writes through. When several processes share one pipe, as the ranks of a
``torchrun`` job do, another rank's line can land between the two and run two messages
together on one line. One ``write`` of a line shorter than the pipe's atomic size
(``PIPE_BUF``, at least 512 bytes by POSIX, 4096 on Linux) reaches the reader in one piece.
"""

from __future__ import annotations

import sys
from typing import TextIO


def say(text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` and its newline to ``stream`` (stderr by default) in one call, then flush."""
    stream = stream if stream is not None else sys.stderr
    stream.write(text + "\n")
    stream.flush()

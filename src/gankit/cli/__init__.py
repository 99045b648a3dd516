"""The ``gankit`` command: a thin layer that turns arguments into calls of the Python API."""

from gankit.cli.app import build_parser, main

__all__ = ["build_parser", "main"]

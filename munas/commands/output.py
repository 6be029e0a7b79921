"""Shared console helpers for the commands."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

console = Console()
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


def report_error(message: str) -> None:
    """Print a one-line error to stderr.

    The message is text, never markup (a path or a JSON fragment may hold ``[/]``), and its
    line breaks are folded so that the error stays one line whatever it quotes.
    """
    error_console.print(Text.assemble(("error:", "bold red"), " ", " ".join(message.split())))


def report_warning(message: str) -> None:
    """Print a one-line warning to stderr (text, never markup, like :func:`report_error`)."""
    error_console.print(Text.assemble(("warning:", "bold yellow"), " ", " ".join(message.split())))

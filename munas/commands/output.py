"""Shared console helpers for the commands."""

from __future__ import annotations

from rich.console import Console

console = Console()
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


def report_error(message: str) -> None:
    """Print a one-line error to stderr."""
    error_console.print(f"[bold red]error:[/] {message}", markup=True)

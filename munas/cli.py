"""munas command line: constrained NAS for microcontrollers.

Each command lives in ``munas/commands/<name>.py``; this file only assembles the app and turns
a :class:`munas.errors.UserError` into a one-line error with exit status 2.
"""

from __future__ import annotations

import sys

import typer

from munas.commands import datasets, pareto, resources, search, train, train_surrogate
from munas.commands.output import report_error
from munas.errors import UserError

app = typer.Typer(
    help="munas: find the most accurate CNN that fits a microcontroller.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """Constrained neural architecture search for microcontrollers."""


app.command("resources")(resources.resources_command)
app.command("datasets")(datasets.datasets_command)
app.command("search")(search.search_command)
app.command("pareto")(pareto.pareto_command)
app.command("train-surrogate")(train_surrogate.train_surrogate_command)
app.command("train")(train.train_command)


def main() -> None:
    try:
        app()
    except UserError as error:
        report_error(str(error))
        sys.exit(2)


if __name__ == "__main__":
    main()

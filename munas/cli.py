"""munas command line: constrained NAS for microcontrollers.

Each command lives in ``munas/commands/<name>.py``; this file only assembles the app and turns
every failure the user can act on into one line ``error: …`` with exit status 2: a
:class:`munas.errors.UserError`, a flag Click cannot parse (instead of its boxed usage panel),
and a fault of the environment (a full disk, a read-only or missing folder).
"""

from __future__ import annotations

import errno
import sqlite3
import sys

import typer

from munas.commands import datasets, export, pareto, report, resources, search, train, train_surrogate
from munas.commands.output import report_error
from munas.errors import UserError

try:  # typer >= 0.25 vendors Click as typer._click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer runs on Click itself
    from click.exceptions import ClickException  # type: ignore[assignment]

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
app.command("report")(report.report_command)
app.command("train-surrogate")(train_surrogate.train_surrogate_command)
app.command("train")(train.train_command)
app.command("export")(export.export_command)


def environment_error(error: OSError) -> str:
    """One line for an OS fault: what failed, on which file, and what to do."""
    where = f" {error.filename}" if error.filename else ""
    remedy = {errno.ENOSPC: "free some space or point the command at another disk",
              errno.EDQUOT: "free some space or point the command at another disk",
              errno.EROFS: "the file system is read-only; choose a writable folder",
              errno.EACCES: "check the permissions, or choose another folder",
              errno.EPERM: "check the permissions, or choose another folder"}.get(error.errno or 0, "")
    return f"cannot use{where}: {error.strerror or error}" + (f"; {remedy}" if remedy else "")


def main() -> None:
    """Run the app; exit 0 on success, the command's own status, or 2 with one ``error:`` line."""
    try:
        code = app(standalone_mode=False)
    except UserError as error:
        report_error(str(error))
        sys.exit(2)
    except ClickException as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # `munas` alone prints the help
            error.show()
            sys.exit(error.exit_code)
        context = getattr(error, "ctx", None)
        hint = f" (see: {context.command_path} --help)" if context is not None else ""
        report_error(error.format_message() + hint)
        sys.exit(2)
    except typer.Abort:
        report_error("aborted")
        sys.exit(130)
    except OSError as error:
        report_error(environment_error(error))
        sys.exit(2)
    except sqlite3.Error as error:  # the run store: a full disk, a read-only or damaged file
        report_error(f"the run store (SQLite) failed: {error}; free space, check the run folder is writable, "
                     "or restore candidates.sqlite")
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()

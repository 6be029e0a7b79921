"""The error every data loader raises for a missing, corrupt or malformed data set."""

from __future__ import annotations

from munas.errors import UserError


class DataError(UserError):
    """A data set cannot be used as it is on disk.

    Subclasses :class:`munas.errors.UserError`, so the command line prints it as one line. The
    message names the file or folder, what is wrong with it, and where the right file should go.
    """

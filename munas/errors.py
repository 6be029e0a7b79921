"""The one exception type the command line turns into a one-line error."""


class UserError(Exception):
    """Bad input the user can fix (a malformed file, a missing data set, a bad option).

    The message is one line that names the problem and what to do about it; the CLI prints
    it as ``error: <message>`` and exits with status 2, never with a traceback.
    """

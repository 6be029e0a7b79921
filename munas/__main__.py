"""``python -m munas ...``: the same command-line app as the ``munas`` command."""

from munas.cli import main

main()

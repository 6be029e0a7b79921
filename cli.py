"""``python cli.py ...`` from a checkout: the same command-line app as the ``munas`` command."""

from munas.cli import main

if __name__ == "__main__":
    main()

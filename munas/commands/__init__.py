"""Command-line commands: thin shells over library functions, registered in ``cli.py``."""

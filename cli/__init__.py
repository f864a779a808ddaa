"""The `uplift` command: imports, the import log, undo, backups and the sample data from a terminal."""

from cli.main import main

__all__ = ["main"]

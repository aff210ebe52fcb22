"""The ``nexora`` command line (Typer + rich)."""

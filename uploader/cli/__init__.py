"""The `agent-uploader` command: one thin module per command group. Each parses its
options, calls the engine, and prints; `app` turns every failure into one
`Error: … / Hint: …` and an exit code.

May import every other package; nothing imports it but `__main__` (the words an error is
shown in are uploader.messages, shared with the dashboard).
"""

# Importing the command modules registers their commands on `main`.
from uploader.cli import (  # noqa: F401
    change_commands,
    config_commands,
    doctor,
    export,
    importing,
    read_commands,
    scan,
    searching,
    service_commands,
    status,
    sweep,
)
from uploader.cli.app import main

__all__ = ["main"]

"""`python -m uploader` runs the agent-uploader command."""

from .cli import main

main()

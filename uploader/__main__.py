"""`python -m uploader` runs the agent-uploader command."""

from uploader.cli import main

main()

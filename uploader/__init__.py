"""agent-uploader: keep coding-agent session transcripts safe in object storage."""

__version__ = "0.1.0"

__all__ = ["__version__"]

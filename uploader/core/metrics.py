"""Counters the engine keeps for logs and the dashboard's /metrics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Metrics:
    lines_read: int = 0
    bytes_read: int = 0
    segments_uploaded: int = 0
    bytes_uploaded: int = 0
    checkpoints: int = 0
    manifests_written: int = 0

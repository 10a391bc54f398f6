"""The write path's tests: every Segmenter a test made is closed after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.segmenters import close_all


@pytest.fixture(autouse=True)
def _close_segmenters() -> Iterator[None]:
    yield
    close_all()

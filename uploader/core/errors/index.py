"""The search index's errors: an index that cannot be opened, or holds another store."""

from __future__ import annotations

from uploader.core.errors.base import UserError


class IndexError_(UserError):
    """The search index (uploader.index) cannot be used."""


class IndexUnavailable(IndexError_):
    """The index cannot be opened: a database that does not answer, a file that cannot be
    made, a driver that is not installed."""

    def __init__(self, where: str, reason: str, hint: str | None = None) -> None:
        super().__init__(
            f"cannot open the search index {where}: {reason}",
            hint or "a SQLite index file may be deleted: it is rebuilt from the store",
        )
        self.where = where


class IndexMismatch(IndexError_):
    """An index that holds another store's sessions."""

    def __init__(self, where: str, holds: str, wanted: str) -> None:
        super().__init__(
            f"the search index {where} is of {holds}, not of {wanted}",
            "give each store its own index, or empty this one to fill it from this store",
        )

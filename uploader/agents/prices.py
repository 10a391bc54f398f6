"""Cost estimates from a price table kept as data (prices.toml), which a user's file
overrides: a TOML file of the same shape, whose models add to the built-in ones and
replace those of the same name. A command is given it by `--prices FILE` (or the config
file's `prices`, or AGENT_UPLOADER_PRICES: the settings' layers) and installs it with
use_prices; otherwise AGENT_UPLOADER_PRICES is read when a price is first needed.

An estimate is the list price of a message's tokens. OpenClaw and pi record what each
message cost (`cost_usd`); that figure is theirs and is shown as it is, never estimated.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from uploader.core.settings import PRICES

log = logging.getLogger(__name__)

PRICES_NAME = "prices.toml"
_PER = 1_000_000  # prices are per million tokens


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0
    input_includes_cache_read: bool = False  # OpenAI's `input` counts cached tokens too

    def cost(self, usage: Mapping[str, float]) -> float:
        cache_read = usage.get("cache_read", 0)
        fresh = usage.get("input", 0) - (cache_read if self.input_includes_cache_read else 0)
        return (
            max(fresh, 0) * self.input
            + usage.get("output", 0) * self.output
            + cache_read * self.cache_read
            + usage.get("cache_write", 0) * self.cache_write
        ) / _PER


def parse_prices(raw: bytes, name: str) -> dict[str, Price]:
    """A price file's models; ValueError naming the file and model when one is wrong."""
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{name}: not a TOML file: {exc}") from None
    models = doc.get("models", {})
    if not isinstance(models, dict):
        raise ValueError(f"{name}: `models` is not a table")
    return {model.lower(): _price(name, model, entry) for model, entry in models.items()}


def _price(name: str, model: str, entry: Any) -> Price:
    if not isinstance(entry, dict):
        raise ValueError(f"{name}: models.{model} is not a table")
    values: dict[str, Any] = {}
    for key in ("input", "output", "cache_read", "cache_write"):
        value = entry.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{name}: models.{model}.{key} is not a price ({value!r})")
        values[key] = float(value)
    values["input_includes_cache_read"] = entry.get("input_includes_cache_read") is True
    return Price(**values)


@functools.cache
def default_prices() -> dict[str, Price]:
    raw = resources.files(__name__.rpartition(".")[0]).joinpath(PRICES_NAME).read_bytes()
    return parse_prices(raw, PRICES_NAME)


def load_prices(path: Path | None) -> dict[str, Price]:
    """The built-in table, with a user's file over it when given (OSError, ValueError)."""
    table = dict(default_prices())
    if path is not None:
        table.update(parse_prices(Path(path).expanduser().read_bytes(), str(path)))
    return table


#: The table a command was given (use_prices); None: prices() reads the environment.
_given: dict[str, Price] | None = None


def use_prices(path: Path | None) -> None:
    """From now on, in this process, price with this file over the built-in table (a
    command's `--prices`); None: as the environment says. OSError or ValueError naming
    the file when it cannot be read: a command asked for these prices does not estimate
    at others."""
    global _given
    _given = None if path is None else load_prices(path)


def current_prices() -> dict[str, Price]:
    """The table estimates use: the one a command was given, else prices()."""
    return _given if _given is not None else prices()


@functools.cache
def prices() -> dict[str, Price]:
    """AGENT_UPLOADER_PRICES over the built-in table (for a dashboard or an estimate made
    outside a command). A file that cannot be read is logged once and the built-in table
    used."""
    text = PRICES.from_env()
    path = PRICES.parse(text) if text else None
    try:
        return load_prices(path if isinstance(path, Path) else None)
    except (OSError, ValueError) as exc:
        log.warning("prices: %s; using the built-in table", exc)
        return dict(default_prices())


def price_of(model: str | None, table: Mapping[str, Price] | None = None) -> Price | None:
    """The price of the longest table name that is part of the model id, and not the
    start of a newer version's (`gpt-5` is not `gpt-5.5`, `claude-opus-4` not
    `claude-opus-4-6`; a date or a provider's suffix may follow)."""
    if not model:
        return None
    table = current_prices() if table is None else table
    # Asked for every message while a segment's tokens are counted: looked up once per
    # model and table (the table held, so its id is not reused while cached).
    key = (id(table), model)
    cached = _looked_up.get(key)
    if cached is not None and cached[0] is table:
        return cached[1]
    lowered = model.lower()
    found = [name for name in table if _names(lowered, name)]
    price = table[max(found, key=len)] if found else None
    if len(_looked_up) >= _LOOKED_UP_MAX:
        _looked_up.clear()
    _looked_up[key] = (table, price)
    return price


_LOOKED_UP_MAX = 1024
_looked_up: dict[tuple[int, str], tuple[Mapping[str, Price], Price | None]] = {}


_NEWER = re.compile(r"\.\d|-\d{1,2}(?!\d)")


def _names(model: str, name: str) -> bool:
    at = model.find(name)
    while at >= 0:
        if not _NEWER.match(model, at + len(name)):
            return True
        at = model.find(name, at + 1)
    return False


def estimate(
    usage: Mapping[str, float], model: str | None, table: Mapping[str, Price] | None = None
) -> float | None:
    """The list price of one message's usage, or None when its model is not priced."""
    price = price_of(model, table)
    return price.cost(usage) if price is not None else None

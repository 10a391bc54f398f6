"""The price table: kept as data, overridden by a user's file, matched by model name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from uploader.agents import prices
from uploader.agents.prices import Price, estimate, load_prices, parse_prices, price_of


@pytest.fixture(autouse=True)
def fresh_table() -> Iterator[None]:
    prices.prices.cache_clear()
    yield
    prices.prices.cache_clear()


def test_a_model_takes_the_longest_name_that_is_not_a_newer_versions() -> None:
    assert price_of("claude-opus-4-6") == price_of("claude-opus-4-5")
    assert price_of("claude-opus-4-20250514") == price_of("claude-opus-4-1")  # same price
    assert price_of("claude-opus-4-6") != price_of("claude-opus-4")
    assert price_of("anthropic/claude-sonnet-4-5") == price_of("claude-sonnet-4-5-20250929")
    assert price_of("gpt-5.9") is None  # not gpt-5's price
    assert price_of("gpt-5.5") != price_of("gpt-5") and price_of("gpt-5.5-pro") != price_of(
        "gpt-5.5"
    )
    assert price_of("pi-fixture-model") is None
    assert price_of(None) is None


def test_openai_input_counts_its_cached_tokens_once() -> None:
    table = {"m": Price(input=2.0, output=10.0, cache_read=0.5, input_includes_cache_read=True)}
    usage = {"input": 1_000_000, "cache_read": 400_000, "output": 100_000}
    assert estimate(usage, "m", table) == pytest.approx(0.6 * 2 + 0.4 * 0.5 + 0.1 * 10)
    anthropic = {"m": Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)}
    usage = {"input": 10, "cache_read": 1_000_000, "cache_write": 1_000_000, "output": 0}
    assert estimate(usage, "m", anthropic) == pytest.approx(0.3 + 3.75 + 10 * 3 / 1e6)


def test_a_users_file_adds_and_replaces_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "prices.toml"
    own.write_text(
        '[models."claude-sonnet-4-5"]\ninput = 1\noutput = 2\n'
        '[models."my-local-model"]\ninput = 0\noutput = 0\n'
    )
    table = load_prices(own)
    assert table["claude-sonnet-4-5"] == Price(input=1.0, output=2.0)
    assert "my-local-model" in table and "claude-opus-4-6" in table
    monkeypatch.setenv("AGENT_UPLOADER_PRICES", str(own))
    assert price_of("claude-sonnet-4-5") == Price(input=1.0, output=2.0)


def test_a_bad_file_is_named_and_the_built_in_table_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "prices.toml"
    bad.write_text('[models."x"]\ninput = "cheap"\n')
    with pytest.raises(ValueError, match=re.escape("models.x.input")):
        parse_prices(bad.read_bytes(), str(bad))
    monkeypatch.setenv("AGENT_UPLOADER_PRICES", str(bad))
    assert price_of("claude-opus-4-6") == Price(5.0, 25.0, 0.5, 6.25)
    assert "using the built-in table" in caplog.text


def test_the_table_holds_the_vendors_list_prices() -> None:
    """Spot checks against the pricing pages (prices.toml says which and when): dollars
    per million tokens of input, output, cache read and cache write."""
    assert price_of("claude-opus-4-7") == Price(5.0, 25.0, 0.5, 6.25)
    assert price_of("claude-opus-4-1-20250805") == Price(15.0, 75.0, 1.5, 18.75)
    assert price_of("claude-sonnet-4-6") == Price(3.0, 15.0, 0.3, 3.75)
    assert price_of("claude-haiku-4-5-20251001") == Price(1.0, 5.0, 0.1, 1.25)
    assert price_of("claude-3-5-haiku-20241022") == Price(0.8, 4.0, 0.08, 1.0)
    assert price_of("gpt-5.5") == Price(5.0, 30.0, 0.5, input_includes_cache_read=True)
    assert price_of("gpt-5.4") == Price(2.5, 15.0, 0.25, input_includes_cache_read=True)
    assert price_of("gpt-5.2-codex") == Price(1.75, 14.0, 0.175, input_includes_cache_read=True)
    assert price_of("gpt-5.1-codex") == Price(1.25, 10.0, 0.125, input_includes_cache_read=True)

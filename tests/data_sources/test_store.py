"""The store's connection settings."""

from __future__ import annotations

import pytest

from data_sources.store import CLI_MEMORY_LIMIT, cli_memory_limit, open_store


def _memory_limit(memory_limit: str | None) -> str:
    store = open_store(":memory:", memory_limit=memory_limit)
    row = store.cursor().execute("SELECT current_setting('memory_limit')").fetchone()
    store.close()
    assert row is not None
    return str(row[0])


def test_the_app_caps_duckdb_memory_and_a_batch_command_may_raise_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPLIFT_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("UPLIFT_CLI_MEMORY_LIMIT", raising=False)
    assert _memory_limit(None) in {"1GB", "953.6 MiB"}
    assert cli_memory_limit() == CLI_MEMORY_LIMIT
    assert _memory_limit(CLI_MEMORY_LIMIT) in {"4GB", "3.7 GiB"}
    monkeypatch.setenv("UPLIFT_CLI_MEMORY_LIMIT", "2GB")
    assert cli_memory_limit() == "2GB"

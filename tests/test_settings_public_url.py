"""Tracking and unsubscribe links follow the API's port when no public URL is configured (dev), and keep the
configured public URL when there is one (production)."""

from __future__ import annotations

import pytest

from nurture.config import Settings
from nurture.links import unsubscribe_url


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_links_follow_nurture_api_port_when_no_public_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NURTURE_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("NURTURE_API_PORT", "8123")
    dev = settings()
    assert dev.public_base_url == "http://127.0.0.1:8123"
    assert unsubscribe_url(dev, 42).startswith("http://127.0.0.1:8123/")
    assert settings(api_host="0.0.0.0", api_port=9000).public_base_url == "http://127.0.0.1:9000"


def test_a_configured_public_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NURTURE_API_PORT", "8123")
    monkeypatch.setenv("NURTURE_PUBLIC_BASE_URL", "https://go.example.com")
    assert settings().public_base_url == "https://go.example.com"
    assert settings(public_base_url="http://127.0.0.1:8000").public_base_url == "http://127.0.0.1:8000"

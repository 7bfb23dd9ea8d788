"""Tiny HTML pages for people following links from emails (confirm, unsubscribe)."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse


def page(
    title: str,
    message: str,
    *,
    form_action: str | None = None,
    button: str = "Unsubscribe",
    status_code: int = 200,
) -> HTMLResponse:
    """A page; with `form_action`, a button that POSTs there (GET never changes state)."""
    form = (
        f'<form method="post" action="{escape(form_action)}"><button type="submit">{escape(button)}</button></form>'
        if form_action
        else ""
    )
    html = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p>{form}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})

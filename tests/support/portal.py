"""The portal as a browser uses it: a page's CSRF token, a fresh browser logged in by a key, a form
posted with its token."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


ENGLISH = {"Accept-Language": "en"}  # the portal's default is Chinese; these tests read English


def client_for(app: FastAPI, token: str | None, lang: str = "en") -> TestClient:
    """A fresh browser asking for ``lang``: its own cookies, logged in through the login form
    when given a key."""
    c = TestClient(app, headers={"Accept-Language": lang})
    if token is not None:
        form = c.get("/portal/login")
        r = c.post(
            "/portal/login", data={"key": token, "csrf_token": csrf_of(form.text)}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
    return c


def post_form(c: TestClient, page: str, action: str, data: dict[str, str]) -> Any:
    """Fetch ``page`` for its CSRF token and post ``data`` to ``action``, as a browser would."""
    token = csrf_of(c.get(page).text)
    return c.post(action, data={**data, "csrf_token": token}, follow_redirects=False)

"""The API client the CLI's server commands use, and the stored credentials.

Credentials come from ``NEXORA_API_KEY`` (with ``NEXORA_URL``) or from ``nexora login``, which stores
the tokens in the user config dir with 0600 permissions; expired access tokens are refreshed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import platformdirs

from nexora.cli.output import fail

DEFAULT_URL = "http://127.0.0.1:8080"


def credentials_path() -> Path:
    return Path(platformdirs.user_config_dir("nexora", appauthor=False)) / "credentials.json"


def save_credentials(url: str, tokens: dict[str, Any]) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(
            {"url": url, "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]}, handle
        )
    os.chmod(path, 0o600)
    return path


def load_credentials() -> dict[str, Any] | None:
    path = credentials_path()
    if not path.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        return None
    return data


def clear_credentials() -> None:
    credentials_path().unlink(missing_ok=True)


def problem_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") or body.get("title") or f"HTTP {response.status_code}"
    errors = body.get("errors")
    if errors:
        first = errors[0]
        detail += f" ({'.'.join(first.get('location', []))}: {first.get('message')})"
    return f"{detail} (HTTP {response.status_code})"


@dataclass
class ApiClient:
    url: str
    api_key: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_environment(cls, url: str | None = None) -> ApiClient:
        api_key = os.environ.get("NEXORA_API_KEY")
        stored = load_credentials()
        base = url or os.environ.get("NEXORA_URL") or (stored or {}).get("url") or DEFAULT_URL
        if api_key:
            return cls(url=base, api_key=api_key)
        if stored and stored.get("url") == base:
            return cls(url=base, access_token=stored.get("access_token"), refresh_token=stored.get("refresh_token"))
        return cls(url=base)

    def _headers(self) -> dict[str, str]:
        token = self.api_key or self.access_token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; refresh the session once on 401; exit with a one-line error on failure."""
        if not self.api_key and not self.access_token:
            fail("not signed in: run 'nexora login --url URL' or set NEXORA_API_KEY")
        try:
            response = self._send(method, path, **kwargs)
            if response.status_code == 401 and self.refresh_token and not self.api_key:
                self._refresh()
                response = self._send(method, path, **kwargs)
        except httpx.HTTPError as error:
            fail(f"cannot reach Nexora at {self.url}: {type(error).__name__}")
        if response.status_code >= 400:
            fail(problem_message(response), code=1 if response.status_code < 500 else 2)
        return response

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(base_url=self.url, timeout=self.timeout) as client:
            return client.request(method, path, headers=self._headers(), **kwargs)

    def _refresh(self) -> None:
        with httpx.Client(base_url=self.url, timeout=self.timeout) as client:
            response = client.post("/api/v1/auth/refresh", json={"refresh_token": self.refresh_token})
        if response.status_code != 200:
            clear_credentials()
            fail("the session has ended: run 'nexora login' again", code=1)
        tokens = response.json()
        self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        save_credentials(self.url, tokens)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post(self, path: str, **kwargs: Any) -> Any:
        response = self.request("POST", path, **kwargs)
        return response.json() if response.content else None

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs).json()

    def post_stream(
        self,
        path: str,
        chunks: Iterator[bytes],
        *,
        content_type: str,
        params: dict[str, Any],
        read_timeout: float,
        size: int | None = None,
        what: str = "",
    ) -> dict[str, Any]:
        """POST a body sent as it is read (an upload), waiting up to ``read_timeout`` for the answer; exit
        with a one-line error (prefixed by ``what``) on failure. The session is not refreshed mid-upload."""
        if not self.api_key and not self.access_token:
            fail("not signed in: run 'nexora login --url URL' or set NEXORA_API_KEY")
        headers = {**self._headers(), "Content-Type": content_type}
        if size is not None:
            headers["Content-Length"] = str(size)
        prefix = f"{what}: " if what else ""
        try:
            with httpx.Client(base_url=self.url, timeout=httpx.Timeout(self.timeout, read=read_timeout)) as http:
                response = http.post(path, params=params, headers=headers, content=chunks)
        except httpx.HTTPError as error:
            fail(f"cannot reach Nexora at {self.url}: {type(error).__name__}")
        if response.status_code >= 400:
            fail(prefix + problem_message(response), code=1 if response.status_code < 500 else 2)
        return dict(response.json())

    def delete(self, path: str, **kwargs: Any) -> None:
        self.request("DELETE", path, **kwargs)

"""Credentials typed into URLs: split them off before use, and redact them from everything recaug shows or writes.

A user may paste ``http://user:KEY@host/v1?key=KEY2`` as an LLM server's base URL. Sent as is, httpx turns the user
info into Basic auth (not the configured key), the query string swallows the request path (``/v1?key=…/completions``)
and the key ends up in reports, error messages and the run store. So:

* :func:`split_url` parses such a URL once into the clean base (no user info, no secret query parameters), the
  harmless query parameters (``api-version=…``, sent with every request after the path) and the secrets found;
* :func:`redact_secrets` is the one redaction every writer calls (config.json, the run store, the HTML report, CLI
  lines, error messages): credentials in any URL inside a string, dict or list become ``***``, and so does any
  secret :func:`split_url` has seen in this process, wherever it appears.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

REDACTED = "***"
# Query parameters whose value is a credential: key, api_key, api-key, subscription-key, token, access_token,
# secret, client_secret, password, sig, signature, auth.
_SECRET_NAME = r"[^=&#?\s]*(?:key|token|secret|password|passwd|pwd|sig|signature|auth)"
_SECRET_PARAM = re.compile(rf"(?i)^{_SECRET_NAME}$")
_SECRET_QUERY = re.compile(rf"(?i)([?&]{_SECRET_NAME}=)[^&#\s\"'<>]+")
# scheme://userinfo@ -- greedy up to the LAST '@' before the path, so a password containing '@' is covered whole.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s\"'<>]*@")
_MIN_SECRET_LENGTH = 4  # shorter values (e.g. a user name "a") would redact ordinary text
_seen: set[str] = set()
_seen_lock = threading.Lock()


@dataclass(frozen=True)
class ServerURL:
    """A base URL split into what may be used and shown (``base``, ``query``) and what may not (``secrets``).

    ``secrets`` is ordered: the user-info password (or the user name when there is no password), then secret query
    values; the first is what :attr:`api_key` offers when the user asks to use the URL's credentials as the key.
    """

    base: str
    query: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def api_key(self) -> str | None:
        return self.secrets[0] if self.secrets else None

    def url(self, path: str = "") -> str:
        """``base + path`` with the harmless query parameters after the path (``/v1/completions?api-version=…``)."""
        from urllib.parse import urlencode

        return f"{self.base}{path}" + (f"?{urlencode(self.query)}" if self.query else "")


def split_url(url: str) -> ServerURL:
    """Split credentials off a base URL; the secrets found are remembered so :func:`redact_secrets` hides them
    wherever they appear later. A URL without credentials comes back unchanged (minus a trailing ``/``)."""
    parts = urlsplit(url.strip())
    secrets: list[str] = []
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, has_password, password = userinfo.partition(":")
        secrets.append(unquote(password) if has_password and password else unquote(user))
    query: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAM.match(name):
            if value:
                secrets.append(value)
        else:
            query.append((name, value))
    secrets = [s for s in secrets if s]
    remember_secrets(secrets)
    base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return ServerURL(base=base, query=tuple(query), secrets=tuple(secrets))


def remember_secrets(values: list[str] | tuple[str, ...]) -> None:
    """Hide these values (and their URL-encoded forms) in every later :func:`redact_secrets` call."""
    with _seen_lock:
        for value in values:
            if len(value) >= _MIN_SECRET_LENGTH:
                _seen.update({value, quote(value, safe="")})


def redact_text(text: str) -> str:
    """``text`` with URL credentials, secret query values and every remembered secret replaced by ``***``."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _SECRET_QUERY.sub(lambda m: f"{m[1]}{REDACTED}", text)
    with _seen_lock:
        seen = sorted(_seen, key=len, reverse=True)  # longest first: a secret containing another goes whole
    for secret in seen:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_secrets(value: Any) -> Any:
    """A copy of ``value`` (str, dict, list, tuple; other values unchanged) with every string redacted by
    :func:`redact_text`: ``http://user:KEY@host/v1?api_key=KEY2`` becomes ``http://***@host/v1?api_key=***``."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact_secrets(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_secrets(item) for item in value)
    return value

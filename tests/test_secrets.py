"""Credentials typed into URLs: split off before use, redacted from everything shown or written."""

from __future__ import annotations

from recaug.core.secrets import REDACTED, redact_secrets, redact_text, split_url


def test_split_url_strips_user_info_and_secret_query_values_and_keeps_the_rest() -> None:
    server = split_url("http://user:SECRETpass@host:8000/v1/?key=SECRET2&api-version=2024-06")
    assert server.base == "http://host:8000/v1"
    assert server.query == (("api-version", "2024-06"),)
    assert server.secrets == ("SECRETpass", "SECRET2") and server.api_key == "SECRETpass"
    # The query goes after the request path, not in front of it (was: /v1?key=…/completions).
    assert server.url("/completions") == "http://host:8000/v1/completions?api-version=2024-06"
    assert "SECRET" not in repr(server)


def test_a_user_name_alone_is_the_key_and_a_clean_url_is_unchanged() -> None:
    assert split_url("https://sk-onlyuser@api.example/v1").api_key == "sk-onlyuser"
    clean = split_url("http://127.0.0.1:8000/v1")
    assert clean.base == "http://127.0.0.1:8000/v1" and clean.secrets == () and clean.query == ()


def test_redaction_covers_urls_in_text_nested_values_and_remembered_secrets() -> None:
    split_url("http://me:p@ss-w0rd@host/v1?subscription-key=zz-SECRET3")  # a password with an '@' in it
    text = "cannot reach http://me:p@ss-w0rd@host/v1?subscription-key=zz-SECRET3&x=1 (and p@ss-w0rd alone)"
    redacted = redact_text(text)
    assert "ss-w0rd" not in redacted and "SECRET3" not in redacted
    assert f"http://{REDACTED}@host/v1?subscription-key={REDACTED}&x=1" in redacted
    nested = redact_secrets({"a": ["zz-SECRET3", ("http://u:k3y-k3y@h/v1",)], "n": 5})
    assert nested == {"a": [REDACTED, (f"http://{REDACTED}@h/v1",)], "n": 5}
    assert redact_text("http://127.0.0.1:8000/v1?api-version=1") == "http://127.0.0.1:8000/v1?api-version=1"

"""User-supplied text shown inside Streamlit markdown, as text: never an image, a link, a colour or a heading.

A data name such as ``![x](http://host/pixel)`` rendered as an image on the Runs page (a headless browser fetched
the URL). Streamlit renders markdown in captions, alerts and labels, so every user string placed there goes
through :func:`markdown_text`.
"""

from __future__ import annotations

import re

# The characters that open markup inside a line: emphasis, code, links and images, HTML, tables, strike-through,
# Streamlit's :colour[...] and :icon: directives and $math$ (CommonMark lets a backslash escape each of them).
# Line-start markers (#, -, 1.) cannot occur: newlines are folded into spaces first.
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#!|~:$<>])")


# GFM's autolink literals: a bare ``http://``, ``www.`` or ``name@host`` becomes a clickable link without any markup.
# Streamlit's remark-gfm finds them in the text *after* escapes are resolved, so a backslash cannot stop them; an
# invisible word joiner (U+2060) where the literal would start does: "http", "www" or a name, then the joiner.
_AUTOLINK_START = re.compile(r"(?i)\b(https?(?=:)|www(?=\.))|(?=@)")
WORD_JOINER = "\u2060"


def _break_autolinks(text: str) -> str:
    """``text`` with a word joiner where GFM would start an autolink: it reads the same and stays text."""
    return _AUTOLINK_START.sub(lambda match: (match.group(1) or "") + WORD_JOINER, text)


def markdown_text(value: object, limit: int = 200) -> str:
    """``value`` as literal text inside markdown (punctuation escaped, newlines as spaces, cut at ``limit``)."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", _break_autolinks(text))


# What turns prose into something else: links and images ([ ]), autolinks and HTML (< >), Streamlit's colours and
# icons (:x[...]), math ($), code spans (`), emphasis and strike-through (* ~), and the escape character itself.
_ACTIVE = re.compile(r"([\\`*\[\]<>$~])")


def markdown_prose(value: object, limit: int = 4000) -> str:
    """``value`` (a message, a note quoting a cell) as literal text inside markdown, escaping only what markdown
    would act on, so the text stays readable where it is stored (logs, test assertions). Newlines become spaces:
    a line starting with ``#`` or ``1.`` can never form."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _ACTIVE.sub(r"\\\1", _break_autolinks(text))


def markdown_code(value: object, limit: int = 200) -> str:
    """``value`` as an inline code span: shown verbatim (ids, file names, reasons), backticks made quotes."""
    text = " ".join(str(value).replace("`", "'").split())
    return f"`{text[: limit - 1] + '…' if len(text) > limit else text}`"

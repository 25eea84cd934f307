"""The one error type for input a user can fix (a bad archive, a missing model, a wrong setting)."""

from __future__ import annotations

from typing import Any

from catbreed.messages import Message


class CatbreedError(ValueError):
    """Bad user input: one line saying what was wrong, what was expected, what was found. It carries
    a `Message` (a code and its parameters, catbreed/messages.py), which a page or the CLI shows in
    its person's language; `str()` gives the English words, for logs."""

    def __init__(self, code: str | Message, **params: Any):
        self.message = code if isinstance(code, Message) else Message(code, params)
        super().__init__(self.message.text())


class Cancelled(RuntimeError):
    """Long work was stopped on request; nothing half-written was left behind."""

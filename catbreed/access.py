"""An optional password for a server several people reach: set by the operator, asked by every page.

The password comes from the environment (CATBREED_PASSWORD) or, for the app, its secrets file
(`password = "..."` in .streamlit/secrets.toml); the environment wins. Without one the app is open.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)

PASSWORD_VARIABLE = "CATBREED_PASSWORD"
SECRET_NAME = "password"


def configured_password(secrets: Mapping | None = None) -> str | None:
    """The operator's password, or None when the server is open to anyone with its address."""
    password = os.environ.get(PASSWORD_VARIABLE) or (secrets or {}).get(SECRET_NAME)
    return str(password) if password else None


def password_matches(given: str, expected: str) -> bool:
    """Compared in constant time, so the time taken tells nothing about how much of it was right."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


FREE_FAILURES = 5  # wrong passwords from one address before it has to wait
FIRST_LOCKOUT_SECONDS = 30.0  # then doubled for every further failure, up to the cap
MAX_LOCKOUT_SECONDS = 3600.0
MAX_ADDRESSES = 10_000  # remembered at once; the oldest are forgotten first


class Throttle:
    """Wrong passwords counted per client address (not per browser session, which a guesser opens
    by the dozen): after FREE_FAILURES, that address waits FIRST_LOCKOUT_SECONDS, doubling with each
    further failure. One per server; thread-safe, since every session runs in a thread of its own."""

    def __init__(self):
        self._failures: dict[str, tuple[int, float]] = {}  # address -> (failures, locked until)
        self._lock = threading.Lock()

    def wait_seconds(self, address: str, now: float | None = None) -> float:
        """How long `address` must wait before its next try (0: it may try now)."""
        with self._lock:
            _, until = self._failures.get(address, (0, 0.0))
        return max(0.0, until - (now if now is not None else time.time()))

    def failed(self, address: str, now: float | None = None) -> int:
        """Count a wrong password from `address`, log it, and return how many in a row."""
        now = now if now is not None else time.time()
        with self._lock:
            failures = self._failures.pop(address, (0, 0.0))[0] + 1
            extra = failures - FREE_FAILURES
            wait = min(FIRST_LOCKOUT_SECONDS * 2 ** (extra - 1), MAX_LOCKOUT_SECONDS) if extra > 0 else 0.0
            self._failures[address] = (failures, now + wait)
            while len(self._failures) > MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]
        log.warning(
            "wrong password from %s (%d in a row%s)", address, failures, f"; locked {wait:.0f} s" if wait else ""
        )
        return failures

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

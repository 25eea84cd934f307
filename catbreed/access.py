"""An optional password for a server several people reach: set by the operator, asked by every page.

The password comes from the environment (CATBREED_PASSWORD) or, for the app, its secrets file
(`password = "..."` in .streamlit/secrets.toml); the environment wins. Without one the app is open.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

PASSWORD_VARIABLE = "CATBREED_PASSWORD"
SECRET_NAME = "password"


def configured_password(secrets: Mapping | None = None) -> str | None:
    """The operator's password, or None when the server is open to anyone with its address."""
    password = os.environ.get(PASSWORD_VARIABLE) or (secrets or {}).get(SECRET_NAME)
    return str(password) if password else None


def password_matches(given: str, expected: str) -> bool:
    """Compared in constant time, so the time taken tells nothing about how much of it was right."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))

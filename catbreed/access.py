"""Who is asking: the operator's passwords, the signed passes browsers keep, and wrong guesses counted.

Two optional passwords come from the environment or, for the app, its secrets file (the
environment wins): CATBREED_PASSWORD (`password = "..."`), asked by every page, and
CATBREED_ADMIN_PASSWORD (`admin_password = "..."`), the operator's, for what concerns everyone.

Each browser keeps a pass in a cookie: a random identity (what owns its data sets and models),
when the pass was made, until when it is signed in and until when it acts as the operator, all
signed with a secret only the server knows (CATBREED_HOME/.secret). A pass is checked on every run,
so a session id copied from a URL is worth nothing without the cookie; signing out or revoking an
identity is written down (CATBREED_HOME/passes.json) and refuses the passes made before it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from catbreed.paths import atomic_write_bytes

log = logging.getLogger(__name__)

PASSWORD_VARIABLE, SECRET_NAME = "CATBREED_PASSWORD", "password"
ADMIN_PASSWORD_VARIABLE, ADMIN_SECRET_NAME = "CATBREED_ADMIN_PASSWORD", "admin_password"


def configured_password(secrets: Mapping | None = None) -> str | None:
    """The password every visitor gives, or None when the server is open to anyone with its address."""
    password = os.environ.get(PASSWORD_VARIABLE) or (secrets or {}).get(SECRET_NAME)
    return str(password) if password else None


def configured_admin_password(secrets: Mapping | None = None) -> str | None:
    """The operator's own password, or None: then nobody acts for everyone but through the CLI and
    the files, except choosing the default model, which anyone may then do."""
    password = os.environ.get(ADMIN_PASSWORD_VARIABLE) or (secrets or {}).get(ADMIN_SECRET_NAME)
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


IDENTITY_DAYS = 400  # the longest a browser keeps a cookie
SIGN_IN_DAYS = 7  # then the password is asked again
ADMIN_HOURS = 8  # acting as the operator lasts a working day
SECRET_FILE, PASSES_FILE = ".secret", "passes.json"
_TOKEN = re.compile(r"([0-9a-f]{32})\.([0-9]{1,16})\.([0-9]{1,12})\.([0-9]{1,12})\.([0-9a-f]{64})")


@dataclass(frozen=True)
class Pass:
    """What a browser's cookie says, once its signature is checked."""

    identity: str  # owns what this browser makes
    issued_ms: int
    signed_in_until: int = 0  # seconds since the epoch; 0: never signed in
    admin_until: int = 0

    def signed_in(self, now: float | None = None) -> bool:
        return self.signed_in_until > (now if now is not None else time.time())

    def admin(self, now: float | None = None) -> bool:
        return self.admin_until > (now if now is not None else time.time())


class PassBook:
    """Makes and checks the passes of one server (its CATBREED_HOME); any process may use it."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self._secret = self._read_or_make_secret()
        self._lock = FileLock(self.home / f"{PASSES_FILE}.lock")
        self._read: tuple[tuple | None, dict] = (None, {})  # (the file's version, what it said)

    def _read_or_make_secret(self) -> bytes:
        path = self.home / SECRET_FILE
        try:  # O_EXCL: two processes starting at once agree on the first secret written
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(50):  # the other process may be between its open and its write
                if len(secret := path.read_bytes()) == 32:
                    return secret
                time.sleep(0.01)
            raise RuntimeError(f"{path} is not a catbreed secret; delete it to sign everyone out.") from None
        secret = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as f:
            f.write(secret)
            f.flush()
            os.fsync(f.fileno())
        return secret

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).hexdigest()

    def issue(
        self, identity: str | None = None, sign_in: bool = False, admin: bool = False, now: float | None = None
    ) -> str:
        """A new pass for `identity` (None: a new identity), signed in and acting as the operator as asked."""
        now = now if now is not None else time.time()
        identity = identity or secrets.token_hex(16)
        signed_in_until = int(now + SIGN_IN_DAYS * 86400) if sign_in else 0
        admin_until = int(now + ADMIN_HOURS * 3600) if admin else 0
        body = f"{identity}.{int(now * 1000)}.{signed_in_until}.{admin_until}"
        return f"{body}.{self._sign(body)}"

    def read(self, token: object, now: float | None = None) -> Pass | None:
        """The pass `token` carries, or None when it is missing, malformed, forged or revoked. A pass
        made before its identity (or everyone) signed out is a pass that is no longer signed in."""
        if not isinstance(token, str) or not (match := _TOKEN.fullmatch(token)):
            return None
        body, signature = token.rpartition(".")[0], match[5]
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        identity, issued_ms = match[1], int(match[2])
        book = self._book()
        if identity in book["revoked"]:
            return None
        if issued_ms <= max(book["signed_out"].get(identity, 0), book["everyone_signed_out"]):
            return Pass(identity, issued_ms)
        return Pass(identity, issued_ms, int(match[3]), int(match[4]))

    def sign_out(self, identity: str | None = None, now: float | None = None) -> None:
        """Passes made until now stop being signed in: this identity's, or everyone's (None)."""
        now_ms = int((now if now is not None else time.time()) * 1000)
        with self._lock:
            book = self._book()
            if identity is None:
                book["everyone_signed_out"] = now_ms
            else:
                book["signed_out"][identity] = now_ms
            self._write(book)

    def revoke(self, identity: str) -> None:
        """Every pass of this identity is refused from now on; its browser starts as someone new."""
        with self._lock:
            book = self._book()
            book["revoked"] = sorted(set(book["revoked"]) | {identity})
            self._write(book)

    def _book(self) -> dict:
        """Sign-outs and revocations, read again only when the file changed: every page run of every
        person checks a pass, often several times."""
        path = self.home / PASSES_FILE
        try:
            stat = path.stat()
            version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except FileNotFoundError:
            version = None
        read_version, book = self._read  # one tuple, swapped whole: sessions read it from many threads
        if version != read_version:
            book = json.loads(path.read_text(encoding="utf-8")) if version else {}
            self._read = (version, book)
        return {"signed_out": {}, "revoked": [], "everyone_signed_out": 0} | book

    def _write(self, book: dict) -> None:
        atomic_write_bytes(self.home / PASSES_FILE, json.dumps(book, indent=1).encode("utf-8"))

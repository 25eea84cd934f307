"""Where catbreed keeps its caches and models: `CATBREED_HOME`, by default ~/.catbreed."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from catbreed.errors import CatbreedError


def catbreed_home() -> Path:
    home = Path(os.environ.get("CATBREED_HOME") or Path.home() / ".catbreed")
    home.mkdir(parents=True, exist_ok=True)
    return home


def models_dir(home: Path | None = None) -> Path:
    path = (home or catbreed_home()) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old content or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_folder(new: Path, target: Path) -> None:
    """Move folder `new` to `target`, replacing any folder there with at most a moment of absence."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)


MAX_NAME_LENGTH = 64
FORBIDDEN_IN_NAMES = set('/\\:*?"<>|') | {chr(c) for c in range(32)} | {"\x7f"}


def check_name(name: str, kind: str, example: str) -> str:
    """`name` trimmed, when it can be a folder's name on every system; otherwise CatbreedError saying
    what to change. `kind` ("model", "breed", "data set") and `example` make the message."""
    name = name.strip()
    if not name:
        raise CatbreedError(f"Give the {kind} a name, e.g. '{example}'.")
    if len(name) > MAX_NAME_LENGTH:
        raise CatbreedError(
            f"{kind.capitalize()} names are at most {MAX_NAME_LENGTH} characters; this one has {len(name)}."
        )
    bad = sorted({c for c in name if c in FORBIDDEN_IN_NAMES})
    if bad or name.startswith("."):
        shown = ", ".join(repr(c) for c in bad) or "a leading '.'"
        raise CatbreedError(
            f"{kind.capitalize()} names cannot contain {shown}; use letters, digits, spaces, '-' or '_'."
        )
    return name


def zip_folder(folder: Path) -> bytes:
    """The folder as .zip bytes, its files under the folder's own name, for a download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, f"{folder.name}/{file.relative_to(folder).as_posix()}")
    return buffer.getvalue()

"""Where catbreed keeps its caches and models: `CATBREED_HOME`, by default ~/.catbreed."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import BinaryIO

import psutil

from catbreed.errors import CatbreedError
from catbreed.messages import message


def catbreed_home() -> Path:
    home = Path(os.environ.get("CATBREED_HOME") or Path.home() / ".catbreed")
    home.mkdir(parents=True, exist_ok=True)
    return home


def temp_root(home: Path | None = None) -> Path:
    """Where catbreed's temporary folders live: under CATBREED_HOME, so that one place holds all it
    writes and a restart can find what a killed process left behind."""
    path = (home or catbreed_home()) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_temp_folder(kind: str, home: Path | None = None) -> Path:
    """A new empty folder `<kind>-<pid>-<random>` that the caller deletes; if the process dies
    first, `clear_stale_temp` deletes it."""
    return Path(tempfile.mkdtemp(prefix=f"{kind}-{os.getpid()}-", dir=temp_root(home)))


@contextlib.contextmanager
def temp_folder(kind: str, home: Path | None = None) -> Iterator[Path]:
    """A temporary folder for the length of a `with` block, removed however the block ends."""
    folder = new_temp_folder(kind, home)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _owner_is_alive(folder: Path) -> bool:
    try:
        pid = int(folder.name.split("-")[1])
        # A pid is reused: the owner is the process of that pid only if it started before the folder.
        return psutil.Process(pid).create_time() <= folder.stat().st_mtime + 1
    except (IndexError, ValueError, psutil.Error, OSError):
        return False


def clear_stale_temp(home: Path | None = None) -> list[str]:
    """Delete the temporary folders of processes that ended (killed, crashed); returns their names."""
    stale = [folder for folder in temp_root(home).iterdir() if not _owner_is_alive(folder)]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink(missing_ok=True)
    return [folder.name for folder in stale]


def models_dir(home: Path | None = None) -> Path:
    path = (home or catbreed_home()) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fsync(path: Path) -> None:
    """Flush a file's or folder's contents to the disk; folders cannot be opened for this on Windows."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old content or the new one, never half of it, even
    after a crash: the bytes reach the disk before the rename makes them the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _old_copy(target: Path) -> Path:
    return target.with_name(f".{target.name}.old")


@contextlib.contextmanager
def staging_beside(target: Path) -> Iterator[Path]:
    """A hidden folder beside `target` (`.<name>.<random>.tmp`), on the same disk, so that what is
    built in it takes `target`'s place in one rename; removed however the block ends (and, after a
    crash, by `recover_folders`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_folder(new: Path, target: Path) -> None:
    """Move folder `new` to `target`, replacing any folder there with at most a moment of absence.

    Everything in `new` reaches the disk first; then the old folder steps aside as `.<name>.old`
    and the new one takes its name. A crash between those two renames leaves only the old copy,
    which `recover_folders` puts back."""
    for file in new.rglob("*"):
        _fsync(file)
    _fsync(new)
    if target.exists():
        old = _old_copy(target)
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(new, target)
        _fsync(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)
        _fsync(target.parent)


def recover_folders(parent: Path) -> list[str]:
    """After a crash in `replace_folder` under `parent`: an old copy whose folder is missing is put
    back, one whose folder exists is dropped, and half-written staging folders are removed. Call it
    while nobody writes there (at start-up, under the lock that saves take). Returns what was put back."""
    restored = []
    for entry in parent.iterdir():
        name = entry.name
        if not name.startswith("."):
            continue
        if name.endswith(".old") and entry.is_dir():
            target = parent / name[1 : -len(".old")]
            if target.exists():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                os.replace(entry, target)
                restored.append(target.name)
        elif name.endswith(".tmp"):
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
    return restored


MAX_NAME_LENGTH = 64
FORBIDDEN_IN_NAMES = set('/\\:*?"<>|') | {chr(c) for c in range(32)} | {"\x7f"}


# What each kind of name is told when it cannot be a folder's name: missing, too long, forbidden.
NAME_MESSAGES = {
    "model": ("name.missing.model", "name.too_long.model", "name.forbidden.model"),
    "breed": ("name.missing.breed", "name.too_long.breed", "name.forbidden.breed"),
    "data set": ("name.missing.data_set", "name.too_long.data_set", "name.forbidden.data_set"),
}


def check_name(name: str, kind: str, example: str) -> str:
    """`name` trimmed, when it can be a folder's name on every system; otherwise CatbreedError saying
    what to change. `kind` (a key of NAME_MESSAGES) and `example` make the message."""
    missing, too_long, forbidden = NAME_MESSAGES[kind]
    name = name.strip()
    if not name:
        raise CatbreedError(missing, example=example)
    if len(name) > MAX_NAME_LENGTH:
        raise CatbreedError(too_long, limit=MAX_NAME_LENGTH, n=len(name))
    bad = sorted({c for c in name if c in FORBIDDEN_IN_NAMES})
    if bad or name.startswith("."):
        shown = [repr(c) for c in bad] or [message("name.leading_dot")]
        raise CatbreedError(forbidden, shown=shown)
    return name


def zip_file() -> BinaryIO:
    """A new temporary file to write a download's zip in, under CATBREED_HOME's `tmp/`: it has no
    name and goes when closed, so a large data set's zip is built on disk, not in memory.
    Unbuffered: a raw file is what Streamlit's download button reads (a buffered one it refuses)."""
    return tempfile.TemporaryFile(dir=temp_root(), buffering=0)


def zip_folder(folder: Path, leave_out: Collection[str] = ()) -> BinaryIO:
    """The folder as a .zip (a `zip_file`, at its start), its files under the folder's own name,
    for a download; files whose path within it is in `leave_out` stay behind."""
    file = zip_file()
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry in sorted(folder.rglob("*")):
            if entry.is_file() and entry.relative_to(folder).as_posix() not in leave_out:
                zf.write(entry, f"{folder.name}/{entry.relative_to(folder).as_posix()}")
    file.seek(0)
    return file

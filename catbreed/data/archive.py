"""Unpacking an untrusted zip of breed folders without letting it write anywhere else.

The archive is judged from its central directory before anything is extracted: member count,
total size and compression ratio must be sane, no member may be encrypted, and no name may
point outside the destination. Extraction then counts the bytes it really writes, since the
sizes in the directory are the archive's own claim.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from catbreed.errors import CatbreedError

MAX_MEMBERS = 50_000
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_RATIO = 200  # photos barely compress; a member that shrank 200-fold is a bomb
RATIO_CHECK_MIN_BYTES = 1024**2  # tiny members compress oddly without harm
_CHUNK = 1 << 20


@dataclass
class Extraction:
    root: Path
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member name, reason)


def _member_name(info: zipfile.ZipInfo) -> str:
    """Names without the UTF-8 flag are cp437 by the spec, but most such tools wrote UTF-8."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _safe_parts(name: str) -> tuple[str, ...]:
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise CatbreedError(
            f"The archive holds an unsafe path '{name}' that points outside its folder; "
            "make the zip again from the breed folders."
        )
    return tuple(part for part in path.parts if part not in ("", "."))


def _open_zip(archive: Path) -> zipfile.ZipFile:
    if not archive.is_file():
        raise CatbreedError(f"No file at '{archive}'; give the path of a .zip of breed folders.")
    if archive.stat().st_size == 0:
        raise CatbreedError(f"'{archive.name}' is empty; expected a .zip of breed folders.")
    try:
        return zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise CatbreedError(
            f"'{archive.name}' is not a readable zip archive (it may be truncated or another format); "
            "expected a .zip of breed folders."
        ) from None


def _check_directory(members: list[zipfile.ZipInfo], archive_name: str) -> None:
    if not members:
        raise CatbreedError(f"'{archive_name}' holds no files; expected one folder of photos per breed.")
    if len(members) > MAX_MEMBERS:
        raise CatbreedError(f"'{archive_name}' holds {len(members):,} entries; the limit is {MAX_MEMBERS:,}.")
    total = sum(info.file_size for info in members)
    if total > MAX_TOTAL_BYTES:
        raise CatbreedError(
            f"'{archive_name}' would unpack to {total / 1024**3:.1f} GB; the limit is "
            f"{MAX_TOTAL_BYTES / 1024**3:.0f} GB."
        )
    for info in members:
        if info.flag_bits & 0x1:
            raise CatbreedError(f"'{archive_name}' is encrypted ('{info.filename}'); zip it again without a password.")
        if info.file_size > RATIO_CHECK_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise CatbreedError(
                f"'{archive_name}' looks like a zip bomb: '{info.filename}' claims to grow "
                f"{info.file_size // max(info.compress_size, 1):,}-fold; photos do not compress like that."
            )


def extract_zip(archive: Path, destination: Path) -> Extraction:
    """Extract `archive` into the empty folder `destination`; refuse hostile archives with CatbreedError."""
    with _open_zip(archive) as zf:
        members = zf.infolist()
        _check_directory(members, archive.name)
        extraction = Extraction(root=destination)
        written = 0
        for info in members:
            name = _member_name(info)
            parts = _safe_parts(name)
            if info.is_dir() or not parts:
                continue
            if _is_symlink(info):
                extraction.skipped.append((name, "symbolic link (not followed)"))
                continue
            target = destination.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as source, open(target, "wb") as sink:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        if written > MAX_TOTAL_BYTES:
                            raise CatbreedError(f"'{archive.name}' unpacks to more than its directory claims; refused.")
                        sink.write(chunk)
            except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError):
                target.unlink(missing_ok=True)
                extraction.skipped.append((name, "damaged in the archive"))
    return extraction

"""Unpacking an untrusted zip of breed folders without letting it write anywhere else.

The archive is judged before anything is extracted: its entry count from the end record (before
the directory is listed, which costs memory per entry), then from the directory its total size
and compression ratio, as a whole and per member; no member may be encrypted, and no name may
point outside the destination. Extraction then counts the bytes it really writes, since the
sizes in the directory are the archive's own claim. A member that cannot be written (its folder
is a file, its name is too long for the file system, it is larger than a photo can be) is
skipped with the reason; the limits are `catbreed.limits`.
"""

from __future__ import annotations

import errno
import hashlib
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from catbreed.errors import CatbreedError
from catbreed.limits import Limits, limits
from catbreed.messages import Message, message

MAX_MEMBER_RATIO = 200  # photos barely compress; one member that shrank 200-fold is a bomb
MEMBER_RATIO_FROM_BYTES = 1024**2  # tiny members compress oddly without harm
_CHUNK = 1 << 20
_END_RECORD = struct.Struct("<4s4H2LH")  # signature, disks, entries here, entries, size, offset, comment
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")
_MAX_COMMENT = 0xFFFF


class _TooLarge(Exception):
    """A member wrote more than one photo may be, whatever the directory claimed."""


@dataclass
class Extraction:
    root: Path
    skipped: list[tuple[str, Message]] = field(default_factory=list)  # (member name, reason)


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
    # A drive ("C:") is the one colon that points elsewhere; "Persian: long hair/" is a folder name.
    if path.is_absolute() or ".." in path.parts or (path.parts and re.match(r"[A-Za-z]:", path.parts[0])):
        raise CatbreedError("archive.unsafe_path", name=name)
    return tuple(part for part in path.parts if part not in ("", "."))


def _not_a_zip(archive: Path) -> CatbreedError:
    return CatbreedError("archive.not_a_zip", name=archive.name)


def entry_count(archive: Path) -> int:
    """The number of entries the zip's end record declares, read without listing the directory."""
    with open(archive, "rb") as f:
        size = f.seek(0, 2)
        tail_start = max(0, size - _END_RECORD.size - _MAX_COMMENT)
        f.seek(tail_start)
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _END_RECORD.size:
            raise _not_a_zip(archive)
        count = _END_RECORD.unpack_from(tail, at)[4]
        locator_at = tail_start + at - _ZIP64_LOCATOR.size
        if count != 0xFFFF or locator_at < 0:
            return count
        f.seek(locator_at)
        signature, _, record_at, _ = _ZIP64_LOCATOR.unpack(f.read(_ZIP64_LOCATOR.size))
        if signature != b"PK\x06\x07":
            return count
        f.seek(record_at)
        record = f.read(_ZIP64_END_RECORD.size)
        if len(record) < _ZIP64_END_RECORD.size or record[:4] != b"PK\x06\x06":
            raise _not_a_zip(archive)
        return _ZIP64_END_RECORD.unpack(record)[7]


def _open_zip(archive: Path, limit: Limits) -> zipfile.ZipFile:
    if not archive.is_file():
        raise CatbreedError("archive.no_file", path=str(archive))
    if archive.stat().st_size == 0:
        raise CatbreedError("archive.empty", name=archive.name)
    count = entry_count(archive)
    if count > limit.archive_entries:
        raise CatbreedError("archive.too_many_entries", name=archive.name, count=count, limit=limit.archive_entries)
    try:
        return zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise _not_a_zip(archive) from None
    except UnicodeDecodeError:
        raise CatbreedError("archive.bad_utf8", name=archive.name) from None


def _check_directory(members: list[zipfile.ZipInfo], archive: Path, limit: Limits) -> None:
    if not members:
        raise CatbreedError("archive.no_files", name=archive.name)
    if len(members) > limit.archive_entries:  # the end record may understate: trust neither alone
        raise CatbreedError(
            "archive.too_many_entries", name=archive.name, count=len(members), limit=limit.archive_entries
        )
    total = sum(info.file_size for info in members)
    if total > limit.unpacked_bytes:
        raise CatbreedError(
            "archive.too_large_unpacked", name=archive.name, gb=round(total / 1024**3, 1), limit=limit.unpacked_gb
        )
    ratio = total / max(archive.stat().st_size, 1)
    if total > limit.ratio_from_mb * 1024**2 and ratio > limit.archive_ratio:
        raise CatbreedError("archive.bomb", name=archive.name, ratio=round(ratio))
    for info in members:
        if info.flag_bits & 0x1:
            raise CatbreedError("archive.encrypted", name=archive.name, member=info.filename)
        if info.file_size > MEMBER_RATIO_FROM_BYTES and info.file_size > MAX_MEMBER_RATIO * max(info.compress_size, 1):
            raise CatbreedError(
                "archive.member_bomb",
                name=archive.name,
                member=info.filename,
                ratio=info.file_size // max(info.compress_size, 1),
            )


def _unwritable(error: OSError, archive: Path) -> Message:
    """Why a member could not be written, as a skip reason; errors of the disk itself end the unpacking."""
    if error.errno == errno.ENAMETOOLONG:
        return message("skip.name_too_long")
    if isinstance(error, (NotADirectoryError, FileExistsError, IsADirectoryError)):
        return message("skip.name_clash")
    raise CatbreedError("archive.cannot_unpack", name=archive.name, reason=error.strerror or str(error)) from None


MAX_FILE_NAME_BYTES = 180  # most file systems allow 255 bytes; room for a suffix a later step adds


def short_file_name(name: str, limit: int = MAX_FILE_NAME_BYTES) -> str:
    """`name` if it fits in `limit` UTF-8 bytes, else its start, a hash of the whole and its suffix:
    a photo keeps a recognisable name instead of failing to unpack (ENAMETOOLONG)."""
    if len(name.encode("utf-8")) <= limit:
        return name
    suffix = Path(name).suffix if len(Path(name).suffix) <= 10 else ""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    stem = name[: len(name) - len(suffix)].encode("utf-8")[: limit - len(suffix) - 9].decode("utf-8", "ignore")
    return f"{stem}-{digest}{suffix}"


def extract_zip(archive: Path, destination: Path) -> Extraction:
    """Extract `archive` into the empty folder `destination`; refuse hostile archives with CatbreedError."""
    limit = limits()
    with _open_zip(archive, limit) as zf:
        members = zf.infolist()
        _check_directory(members, archive, limit)
        extraction = Extraction(root=destination)
        written = 0
        for info in members:
            name = _member_name(info)
            parts = _safe_parts(name)
            if info.is_dir() or not parts:
                continue
            if _is_symlink(info):
                extraction.skipped.append((name, message("skip.symlink")))
                continue
            if info.file_size > limit.file_bytes:
                extraction.skipped.append((name, message("skip.larger_than", mb=limit.file_mb)))
                continue
            target = destination.joinpath(*parts[:-1], short_file_name(parts[-1]))
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as source, open(target, "wb") as sink:
                    member_written = 0
                    while chunk := source.read(_CHUNK):
                        written, member_written = written + len(chunk), member_written + len(chunk)
                        if written > limit.unpacked_bytes:
                            raise CatbreedError("archive.more_than_claimed", name=archive.name)
                        if member_written > limit.file_bytes:
                            raise _TooLarge
                        sink.write(chunk)
            except _TooLarge:
                target.unlink(missing_ok=True)
                extraction.skipped.append((name, message("skip.larger_than", mb=limit.file_mb)))
            except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError):
                target.unlink(missing_ok=True)
                extraction.skipped.append((name, message("skip.damaged_in_archive")))
            except OSError as error:
                extraction.skipped.append((name, _unwritable(error, archive)))
    return extraction

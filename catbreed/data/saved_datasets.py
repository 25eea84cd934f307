"""Data sets that live in the app: built photo by photo, fixed in place, kept across reloads.

    CATBREED_HOME/datasets/<id>/dataset.json      name, version, created, owner, shared
    CATBREED_HOME/datasets/<id>/photos/<breed>/   the photos, one folder per breed, as in a zip

A data set starts empty, from an uploaded zip or from another data set. Every change (a breed
added, a photo added, moved to another breed or removed) raises its version, which a model
trained on it records, so a model can always say which photos it learned from. Photos pass the
same checks as a zip's (images.open_rgb: a real image, not too many pixels, not too small) and
keep their own file names (made safe), so results name the person's own files. Every file is
written to a temporary name and renamed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from catbreed.data.dataset import (
    Dataset,
    Duplicate,
    Skipped,
    check_folder,
    discard_upload,
    open_uploaded_archive,
)
from catbreed.data.images import FORMAT_SUFFIXES, ImageProblem, open_rgb
from catbreed.errors import CatbreedError
from catbreed.limits import limits
from catbreed.messages import NOTHING, Message, message
from catbreed.owners import Ownership
from catbreed.paths import (
    FORBIDDEN_IN_NAMES,
    MAX_NAME_LENGTH,
    atomic_write_bytes,
    catbreed_home,
    check_name,
    replace_folder,
    staging_beside,
    zip_file,
)

INFO_FILE, PHOTOS_FOLDER = "dataset.json", "photos"
SAME_PHOTO = "saved.same_photo"  # the code of the error an add of a photo kept already raises
ID_LENGTH = 12
_ID = re.compile(f"[0-9a-f]{{{ID_LENGTH}}}")


STAGING_KEPT_SECONDS = 3600
CHECKED_KEPT = 8  # checked versions remembered, across everyone's data sets
_CHECKED: OrderedDict[tuple[str, int], Dataset] = OrderedDict()
_CHECKED_LOCK = threading.Lock()


def check_breed_name(name: str) -> str:
    return check_name(name, "breed", "Siamese")


@dataclass(frozen=True)
class SavedPhoto:
    name: str  # "<breed>/<file>", as Dataset photos are named
    breed: str
    path: Path


def _free_path(folder: Path, file_name: str, extension: str, digest: str) -> Path:
    """`folder/<file name made safe><extension>`, or with the content hash added when that name is taken."""
    stem = "".join("_" if c in FORBIDDEN_IN_NAMES else c for c in Path(file_name).stem).strip(" .")[:80] or "photo"
    extension = extension.lower() or ".jpg"
    path = folder / f"{stem}{extension}"
    return path if not path.exists() else folder / f"{stem}-{digest[:8]}{extension}"


class SavedDataset:
    """One data set on disk. Changes from several sessions are serialised by a lock per data set."""

    _locks: dict[str, threading.Lock] = {}

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.id = self.folder.name
        self._lock = SavedDataset._locks.setdefault(self.id, threading.Lock())

    # --- what it holds ---------------------------------------------------------------------

    @property
    def info(self) -> dict:
        return json.loads((self.folder / INFO_FILE).read_text(encoding="utf-8"))

    @property
    def name(self) -> str:
        return self.info["name"]

    @property
    def version(self) -> int:
        return self.info["version"]

    @property
    def ownership(self) -> Ownership:
        return Ownership.from_json(self.info)

    @property
    def photos_folder(self) -> Path:
        return self.folder / PHOTOS_FOLDER

    def breeds(self) -> list[str]:
        return sorted(p.name for p in self.photos_folder.iterdir() if p.is_dir())

    def photos(self, breed: str | None = None) -> list[SavedPhoto]:
        breeds = [breed] if breed is not None else self.breeds()
        return [
            SavedPhoto(f"{b}/{p.name}", b, p)
            for b in breeds
            for p in sorted((self.photos_folder / b).iterdir())
            if p.is_file() and not p.name.startswith(".")
        ]

    def counts(self) -> dict[str, int]:
        return {breed: len(self.photos(breed)) for breed in self.breeds()}

    def _sized_photos(self) -> list[tuple[SavedPhoto, int]]:
        """Its photos with their sizes on disk, listed and stat'ed once (the photos removed meanwhile
        aside): an add checks the count, the byte quota and identical photos from this one list."""
        sized = []
        for photo in self.photos():
            with contextlib.suppress(FileNotFoundError):
                sized.append((photo, photo.path.stat().st_size))
        return sized

    def check(self, on_event=None, cancel=None) -> Dataset:
        """The photos as a checked Dataset, ready to train on (CatbreedError while it has too few);
        its report keeps what the zip it came from skipped. Checking decodes every photo (seconds
        for a few thousand), and a page asks on every click, so the last few versions checked are
        remembered: a version never changes once made."""
        info = self.info
        key = (str(self.folder), info["version"])
        with _CHECKED_LOCK:
            if key in _CHECKED:
                _CHECKED.move_to_end(key)
                return _CHECKED[key]
        skipped = [Skipped(name, Message.from_json(reason)) for name, reason in info.get("skipped", [])]
        dataset = check_folder(self.photos_folder, on_event, cancel, skipped)
        dataset.duplicates[:0] = [Duplicate(name, kept) for name, kept in info.get("duplicates", [])]
        dataset.notes = info.get("notes", "")
        with _CHECKED_LOCK:
            _CHECKED[key] = dataset
            while len(_CHECKED) > CHECKED_KEPT:
                _CHECKED.popitem(last=False)
        return dataset

    # --- changes, each raising the version -----------------------------------------------------

    def _changed(self) -> None:
        info = self.info
        info["version"] += 1
        self._write_info(info)

    def _write_info(self, info: dict) -> None:
        atomic_write_bytes(self.folder / INFO_FILE, json.dumps(info, ensure_ascii=False).encode("utf-8"))

    def share(self, shared: bool) -> None:
        """Let everyone on the server open, train on and download it (never change it), or stop.
        Not a change of its photos: the version stays."""
        with self._lock:
            self._write_info(self.info | {"shared": bool(shared)})

    def _breed_folder(self, breed: str) -> Path:
        """The folder of an existing breed, named exactly: a breed a zip brought in keeps its name,
        whatever the rules for new names say, and stays editable (the name only ever matches one of
        the folders listed here, so it never builds a path of its own)."""
        if breed not in self.breeds():
            raise CatbreedError("saved.no_breed", breed=breed)
        return self.photos_folder / breed

    def add_breed(self, breed: str) -> str:
        breed = check_breed_name(breed)
        with self._lock:
            if any(b.casefold() == breed.casefold() for b in self.breeds()):
                raise CatbreedError("saved.breed_exists", breed=breed)
            (self.photos_folder / breed).mkdir()
            self._changed()
        return breed

    def add_photo(self, breed: str, data: bytes, file_name: str = "photo") -> SavedPhoto:
        """Check `data` as the zip's photos are checked, then keep it under `breed`."""
        limit = limits()
        if len(data) > limit.file_bytes:
            raise CatbreedError(
                "saved.photo_too_large", name=file_name, mb=round(len(data) / 1024**2), limit=limit.file_mb
            )
        try:
            image = open_rgb(data)
        except ImageProblem as problem:
            raise CatbreedError("saved.not_a_photo", name=file_name, reason=problem.reason) from None
        extension = FORMAT_SUFFIXES.get(image.format or "", ".jpg")
        with self._lock:
            folder = self._breed_folder(breed)
            photos = self._sized_photos()
            if len(photos) >= limit.archive_entries:  # no larger than a zip may be
                raise CatbreedError("saved.full", n=limit.archive_entries)
            _within_quota(
                sum(size for _, size in photos) + len(data),
                message("saved.this_data_set"),
                message("saved.not_added", name=file_name),
            )
            digest = hashlib.sha256(data).hexdigest()
            if same := _identical(photos, data, digest):
                raise CatbreedError(SAME_PHOTO, name=file_name, same=same)
            path = _free_path(folder, file_name, extension, digest)
            try:
                atomic_write_bytes(path, data)
            except OSError as error:  # a full disk: the photo is not kept, the data set is as it was
                raise CatbreedError(
                    "saved.photo_not_kept", name=file_name, reason=error.strerror or str(error)
                ) from None
            self._changed()
        return SavedPhoto(f"{folder.name}/{path.name}", folder.name, path)

    def _photo(self, name: str) -> Path:
        breed, _, file = name.partition("/")
        path = self.photos_folder / breed / Path(file).name
        if breed not in self.breeds() or not file or not path.is_file():
            raise CatbreedError("saved.no_photo", name=name)
        return path

    def remove_photo(self, name: str) -> None:
        with self._lock:
            self._photo(name).unlink()
            self._changed()

    def remove_photos(self, names: list[str]) -> int:
        """Remove those of `names` still here, as one change (a burst taken back); how many there were.
        A photo moved or removed meanwhile is no longer one of them and stays as it is."""
        with self._lock:
            removed = 0
            for name in names:
                try:
                    self._photo(name).unlink()
                except (CatbreedError, FileNotFoundError):
                    continue
                removed += 1
            if removed:
                self._changed()
        return removed

    def move_photo(self, name: str, breed: str) -> SavedPhoto:
        """Relabel: the photo now belongs to `breed`."""
        with self._lock:
            source, folder = self._photo(name), self._breed_folder(breed)
            target = _free_path(folder, source.stem, source.suffix, hashlib.sha256(source.read_bytes()).hexdigest())
            source.replace(target)
            self._changed()
        return SavedPhoto(f"{folder.name}/{target.name}", folder.name, target)

    def delete(self) -> None:
        """Gone at once and whole: it first steps out of the list under a hidden name (one rename),
        then its files go; a crash between leaves a hidden folder that `DatasetStore.recover` removes."""
        with self._lock:
            leaving = self.folder.with_name(f".{self.folder.name}.deleted.tmp")
            try:
                os.replace(self.folder, leaving)
            except FileNotFoundError:
                return  # deleted already, by another tab or the operator
            shutil.rmtree(leaving, ignore_errors=True)

    def zip_file(self) -> BinaryIO:
        """The data set as a .zip in the layout the Train page and `catbreed train` read, in a
        temporary file (paths.zip_file) at its start."""
        file = zip_file()
        with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zf:  # photos do not compress
            for photo in self.photos():
                zf.write(photo.path, photo.name)
            if notes := self.info.get("notes"):
                zf.writestr("README.txt", notes)
        file.seek(0)
        return file


def _identical(photos: list[tuple[SavedPhoto, int]], data: bytes, digest: str) -> str | None:
    """The name of a photo among `photos` (with their sizes) with exactly these bytes, if there is
    one. Only files of the same size are read, so a snapshot added to a large data set reads none."""
    for photo, size in photos:
        try:
            if size == len(data) and hashlib.sha256(photo.path.read_bytes()).hexdigest() == digest:
                return photo.name
        except OSError:
            continue  # removed meanwhile by someone else
    return None


def _within_quota(size: int, subject: Message, outcome: Message = NOTHING) -> None:
    """CatbreedError when `size` bytes of photos are more than one data set may hold."""
    quota = limits().dataset_mb
    if size > quota * 1024**2:
        raise CatbreedError("saved.over_quota", subject=subject, mb=round(size / 1024**2), quota=quota, outcome=outcome)


class DatasetStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else catbreed_home() / "datasets"
        self.root.mkdir(parents=True, exist_ok=True)

    def create(self, name: str, owner: str | None = None) -> SavedDataset:
        """An empty data set; `owner` an identity (None: the house's, as the CLI makes them)."""
        return self._made(name, owner, lambda folder, info: None)

    def from_dataset(self, name: str, dataset: Dataset, owner: str | None = None) -> SavedDataset:
        """A new saved data set holding the checked photos of `dataset` (an unpacked zip, say); the
        files it skipped and the duplicates it found stay in its report, its README with it."""

        _within_quota(sum(photo.path.stat().st_size for photo in dataset.photos), message("saved.named", name=name))

        def fill(folder: Path, info: dict) -> None:
            info |= {
                "skipped": [[s.name, s.reason.to_json()] for s in dataset.skipped],  # codes: read in any language
                "duplicates": [[d.name, d.kept] for d in dataset.duplicates],
                "notes": dataset.notes,  # its README or licence: the model card cites it
                "version": 1,
            }
            for breed in dataset.classes:
                (folder / PHOTOS_FOLDER / breed).mkdir()
            for photo in dataset.photos:
                target = _free_path(
                    folder / PHOTOS_FOLDER / photo.label, photo.path.stem, photo.path.suffix, photo.sha256
                )
                shutil.copyfile(photo.path, target)

        return self._made(name, owner, fill)

    def _made(self, name: str, owner: str | None, fill) -> SavedDataset:
        """A new data set, built whole in a staging folder and renamed into place: a crash or a full
        disk midway leaves no data set at all (the staging folder goes at the next start), never
        part of one."""
        name = check_name(name, "data set", "my cats")
        allowed = limits().datasets_per_person
        if owner is not None and (kept := sum(d.ownership.owner == owner for d in self.list())) >= allowed:
            raise CatbreedError("saved.too_many_data_sets", n=kept)
        folder = self.root / uuid.uuid4().hex[:ID_LENGTH]
        created = datetime.now(UTC).isoformat(timespec="seconds")
        info = {"name": name, "version": 0, "created": created} | Ownership(owner).to_json()
        try:
            with staging_beside(folder) as staging:
                (staging / PHOTOS_FOLDER).mkdir()
                fill(staging, info)
                (staging / INFO_FILE).write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
                replace_folder(staging, folder)
        except OSError as error:
            raise CatbreedError("saved.data_set_not_kept", name=name, reason=error.strerror or str(error)) from None
        return SavedDataset(folder)

    def recover(self, now: float | None = None) -> list[str]:
        """Remove what a crash left: data sets being made (staging folders) and photos or records
        being written (hidden `.tmp` files beside them), once an hour old, since one being made
        now must not lose its folder. Returns their names."""
        oldest_kept = (now or time.time()) - STAGING_KEPT_SECONDS
        removed = []
        for entry in [*self.root.glob(".*.tmp"), *self.root.glob("*/.*.tmp"), *self.root.glob("*/*/*/.*.tmp")]:
            if entry.stat().st_mtime < oldest_kept:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
                removed.append(entry.relative_to(self.root).as_posix())
        return removed

    def from_upload(self, stream: BinaryIO, on_event=None, cancel=None, owner: str | None = None) -> SavedDataset:
        """An uploaded .zip, checked as any zip is, kept as a new saved data set named after the file;
        the unpacked copy is deleted."""
        unpacked = open_uploaded_archive(stream, on_event, cancel)
        try:
            name = Path(getattr(stream, "name", "") or "photos").stem or "photos"
            return self.from_dataset(
                "".join(c for c in name if c not in FORBIDDEN_IN_NAMES)[:MAX_NAME_LENGTH], unpacked, owner
            )
        finally:
            discard_upload(unpacked)

    def get(self, dataset_id: str | None) -> SavedDataset | None:
        """The data set with this id, or None (a stale link, or an id that is not ours). Opening it
        counts as using it: it is kept `keep_datasets_days` from now."""
        if not dataset_id or not _ID.fullmatch(dataset_id):  # from a URL: only our own ids name a folder
            return None
        folder = self.root / dataset_id
        if not (folder / INFO_FILE).is_file():
            return None
        os.utime(folder / INFO_FILE)
        return SavedDataset(folder)

    def expire(self, now: float | None = None) -> list[str]:
        """Delete the data sets nobody opened or changed for `limits.keep_datasets_days`; their ids.
        Photos people uploaded or snapped then do not pile up on a shared server for ever."""
        oldest_kept = (now or time.time()) - limits().keep_datasets_days * 86400
        expired = []
        for folder in self.root.iterdir():
            info = folder / INFO_FILE
            if info.is_file() and info.stat().st_mtime < oldest_kept:
                SavedDataset(folder).delete()
                expired.append(folder.name)
        return expired

    def list(self) -> list[SavedDataset]:
        found = [SavedDataset(f) for f in self.root.iterdir() if (f / INFO_FILE).is_file()]
        return sorted(found, key=lambda d: d.info["created"], reverse=True)

"""From a folder (or zip) of breed folders to a checked dataset and a report on it.

The folder name is the label, exactly as written. Every file is opened as an image whatever its
extension; what cannot be used is listed with the reason, exact duplicates (same bytes) are kept
once, and the report warns about classes that are too small or too unbalanced to learn well.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from catbreed.data.archive import extract_zip, short_file_name
from catbreed.data.images import ImageProblem, open_rgb, perceptual_hash, stored_pixels
from catbreed.errors import CatbreedError
from catbreed.limits import limits
from catbreed.messages import NOTHING, Message, message
from catbreed.paths import new_temp_folder
from catbreed.progress import CHECKING, CancelFlag, ProgressCallback, Reporter

IGNORED_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}
MIN_PHOTOS_PER_CLASS = 2
FEW_PHOTOS_WARNING = 20
UNBALANCED_RATIO = 3
NOT_IN_A_CLASS_FOLDER = message("skip.not_in_breed_folder")
GONE = message("skip.gone")
# A data set's own README or licence beside the breed folders: kept as text for the model card's
# "how to cite", not reported as a skipped photo.
NOTE_STEMS = ("readme", "license", "licence", "citation", "attribution")
MAX_NOTES_CHARACTERS = 4000
_CHECK_DRAFT_SIZE = 64  # decoding every byte proves a JPEG intact; 1/8 scale makes that cheap


@dataclass(frozen=True)
class Photo:
    path: Path
    name: str  # relative to the dataset root, as shown to the user
    label: str
    sha256: str
    fingerprint: int | None = None  # 64-bit perceptual hash (see images.perceptual_hash); None: unknown


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: Message


@dataclass(frozen=True)
class Duplicate:
    name: str
    kept: str


@dataclass
class Dataset:
    root: Path
    classes: list[str]  # sorted; a class's index here is its id everywhere
    photos: list[Photo]
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    upload_folder: Path | None = None  # the temporary folder an uploaded archive was unpacked in
    notes: str = ""  # the data set's README or licence text (NOTE_STEMS), cut to MAX_NOTES_CHARACTERS

    @property
    def fingerprint(self) -> str:
        """The same for the same photos under the same breeds, whatever their file names."""
        lines = sorted(f"{photo.label}/{photo.sha256}" for photo in self.photos)
        return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(photo.label for photo in self.photos)
        return {label: counts[label] for label in self.classes}

    def label_ids(self) -> list[int]:
        index = {label: i for i, label in enumerate(self.classes)}
        return [index[photo.label] for photo in self.photos]


def changed_since_checked(photo: Photo) -> CatbreedError:
    return CatbreedError("dataset.changed_since_checked", name=photo.name)


def checked_bytes(photo: Photo) -> bytes:
    """The photo's bytes, proven to be the ones its check hashed: whatever is learned from them may
    be kept under that hash (the feature cache every data set and person shares)."""
    try:
        data = photo.path.read_bytes()
    except FileNotFoundError:
        raise changed_since_checked(photo) from None
    if hashlib.sha256(data).hexdigest() != photo.sha256:
        raise changed_since_checked(photo)
    return data


def snapshot(dataset: Dataset, folder: Path) -> Dataset:
    """The same data set over links in `folder` to each photo's file as it is now, so that edits to
    the data set afterwards (a photo removed, another added under its name) never reach what reads
    the snapshot. A hard link costs no copy; a copy is made where links cannot be (another disk).
    A file already gone or changed raises `changed_since_checked` on reading (`checked_bytes`)."""
    photos = []
    for number, photo in enumerate(dataset.photos):
        kept = folder / f"{number}{photo.path.suffix}"
        try:
            try:
                os.link(photo.path, kept)
            except OSError as error:
                if isinstance(error, FileNotFoundError):
                    raise
                shutil.copyfile(photo.path, kept)
        except FileNotFoundError:
            raise changed_since_checked(photo) from None
        photos.append(dataclasses.replace(photo, path=kept))
    return dataclasses.replace(dataset, root=folder, photos=photos, upload_folder=None)


def _is_note(entry: Path) -> bool:
    return entry.is_file() and not entry.is_symlink() and entry.name.split(".")[0].lower() in NOTE_STEMS


def _is_ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED_NAMES


def _walk_files(folder: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        files.extend(Path(dirpath, f) for f in sorted(filenames) if not _is_ignored(f))
    return files


def _unwrap(root: Path) -> Path:
    """A zip of one folder holding the breed folders is as good as a zip of the breed folders."""
    entries = [p for p in root.iterdir() if not _is_ignored(p.name)]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        inner = [p for p in entries[0].iterdir() if not _is_ignored(p.name)]
        if any(p.is_dir() for p in inner):
            return entries[0]
    return root


@dataclass(frozen=True)
class _Checked:
    sha256: str | None = None
    fingerprint: int | None = None
    pixels: int = 0  # of the photo as stored, before any reduced decoding
    reason: Message | None = None  # why it is skipped; None for a usable photo


def _check_file(path: Path, max_bytes: int) -> _Checked:
    if path.is_symlink():
        return _Checked(reason=message("skip.symlink"))
    try:
        if path.stat().st_size > max_bytes:  # before reading: one huge file must not fill the memory
            return _Checked(reason=message("skip.larger_than", mb=round(max_bytes / 1024**2, 1)))
        data = path.read_bytes()
        image = open_rgb(data, draft_size=_CHECK_DRAFT_SIZE)
    except ImageProblem as problem:
        return _Checked(reason=problem.reason)
    except FileNotFoundError:  # someone removed or moved it meanwhile: the data set's next version counts it
        return _Checked(reason=GONE)
    return _Checked(hashlib.sha256(data).hexdigest(), perceptual_hash(image), stored_pixels(data))


def breed_label(folder_name: str) -> str:
    """A breed folder's name as a label: control characters (a newline would split labels.txt) become
    spaces, and runs of spaces one."""
    return " ".join("".join(c if c.isprintable() else " " for c in folder_name).split())


def check_folder(
    folder: Path,
    on_event: ProgressCallback | None = None,
    cancel: CancelFlag | None = None,
    skipped: list[Skipped] | None = None,
    source_name: str | None = None,
) -> Dataset:
    """Check every file under `folder` (one sub-folder per class) and return the dataset.
    `source_name` is what the user gave (their zip's name) for messages; the folder's own by default."""
    if not folder.is_dir():
        raise CatbreedError("dataset.no_folder", path=str(folder))
    root = _unwrap(folder)
    limit = limits()
    skipped = list(skipped or [])
    candidates: list[tuple[Path, str, str]] = []
    class_names: list[str] = []
    notes, renamed = [], []
    for entry in sorted(root.iterdir()):
        if _is_ignored(entry.name):
            continue
        if _is_note(entry):
            notes.append(entry.read_bytes()[:MAX_NOTES_CHARACTERS].decode("utf-8", errors="replace"))
        elif entry.is_dir() and not entry.is_symlink():
            label = breed_label(entry.name)
            if not label:
                skipped.append(Skipped(entry.name, message("skip.folder_without_name")))
                continue
            if label != entry.name:
                renamed.append(message("dataset.renamed", name=entry.name, label=label))
            if label not in class_names:
                class_names.append(label)
            candidates += [(p, p.relative_to(root).as_posix(), label) for p in _walk_files(entry)]
        else:
            skipped.append(Skipped(entry.name, NOT_IN_A_CLASS_FOLDER))
    if not class_names:
        raise CatbreedError("dataset.no_breed_folders")

    reporter = Reporter(on_event, cancel)
    reporter.start(CHECKING, len(candidates))
    photos: list[Photo] = []
    duplicates: list[Duplicate] = []
    seen: dict[str, str] = {}
    pixels = 0
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        checks = pool.map(_check_file, (c[0] for c in candidates), [limit.file_bytes] * len(candidates))
        for done, ((path, name, label), checked) in enumerate(zip(candidates, checks), start=1):
            pixels += checked.pixels
            if pixels > limit.upload_megapixels * 1e6:
                raise CatbreedError(
                    "dataset.too_many_megapixels", name=source_name or folder.name, limit=limit.upload_megapixels
                )
            if checked.reason:
                skipped.append(Skipped(name, checked.reason))
            elif checked.sha256 in seen:
                duplicates.append(Duplicate(name, kept=seen[checked.sha256]))
            else:
                seen[checked.sha256] = name
                photos.append(Photo(path, name, label, checked.sha256, checked.fingerprint))
            if done % 16 == 0 or done == len(candidates):
                reporter.step(done)

    dataset = _finish(root, class_names, photos, skipped, duplicates)
    dataset.warnings = renamed + dataset.warnings
    dataset.notes = "\n\n".join(notes)[:MAX_NOTES_CHARACTERS]
    return dataset


def _skipped_summary(skipped: list[Skipped]) -> Message:
    """' 24 files skipped: not an image (20); name too long… (4).', or nothing when none were."""
    if not skipped:
        return NOTHING
    reasons = Counter(s.reason for s in skipped).most_common()
    listed = [message("dataset.reason_count", reason=reason, n=n) for reason, n in reasons[:3]]
    return message("dataset.skipped_summary", n=len(skipped), reasons=listed + (["…"] if len(reasons) > 3 else []))


def _finish(root, class_names, photos, skipped, duplicates) -> Dataset:
    counts = Counter(photo.label for photo in photos)
    warnings = []
    too_few = [label for label in class_names if counts[label] < MIN_PHOTOS_PER_CLASS]
    for label in too_few:
        warnings.append(message("dataset.breed_left_out", breed=label, n=counts[label], minimum=MIN_PHOTOS_PER_CLASS))
    classes = [label for label in class_names if label not in too_few]
    if len(classes) < 2:
        raise CatbreedError(
            "dataset.too_few_breeds",
            minimum=MIN_PHOTOS_PER_CLASS,
            n=len(class_names),
            found=[message("dataset.breed_count", breed=label, n=counts[label]) for label in class_names],
            skipped=_skipped_summary(skipped),
        )
    photos = [photo for photo in photos if photo.label in classes]
    few = [
        message("dataset.breed_count", breed=label, n=counts[label])
        for label in classes
        if counts[label] < FEW_PHOTOS_WARNING
    ]
    if few:
        warnings.append(message("dataset.few_photos", minimum=FEW_PHOTOS_WARNING, breeds=few))
    largest, smallest = max(counts[c] for c in classes), min(counts[c] for c in classes)
    if largest > UNBALANCED_RATIO * smallest:
        warnings.append(message("dataset.unbalanced", largest=largest, smallest=smallest))
    return Dataset(root, classes, photos, skipped, duplicates, warnings)


def open_uploaded_archive(
    stream: BinaryIO,
    on_event: ProgressCallback | None = None,
    cancel: CancelFlag | None = None,
) -> Dataset:
    """Save an uploaded .zip into a new temporary folder, unpack it there and check it.

    The folder outlives this call on purpose: training reads the photos from it later. Call
    `discard_upload` once neither the dataset nor a model trained on it needs the photos. The
    archive keeps the upload's own file name (`stream.name`), so messages name the user's file.
    """
    workdir = new_temp_folder("upload")
    archive = workdir / "archive" / _plain_file_name(getattr(stream, "name", ""))
    try:
        archive.parent.mkdir()
        with open(archive, "wb") as sink:
            shutil.copyfileobj(stream, sink)
        size, limit = archive.stat().st_size, limits()
        if size > limit.upload_mb * 1024**2:  # Streamlit refuses larger ones too, if its setting matches
            raise CatbreedError(
                "dataset.upload_too_large", name=archive.name, mb=round(size / 1024**2), limit=limit.upload_mb
            )
        dataset = open_dataset(archive, workdir / "photos", on_event, cancel)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    archive.unlink()
    dataset.upload_folder = workdir
    return dataset


def _plain_file_name(name: str) -> str:
    """The last part of an uploaded file's name, without control characters; 'upload.zip' if nothing is left."""
    cleaned = "".join(c for c in Path(str(name).replace("\\", "/")).name if c.isprintable())
    return short_file_name(cleaned) if cleaned.strip(". ") else "upload.zip"


def discard_upload(dataset: Dataset) -> None:
    """Delete the photos unpacked by `open_uploaded_archive` (a folder dataset is left alone)."""
    if dataset.upload_folder is not None:
        shutil.rmtree(dataset.upload_folder, ignore_errors=True)


def open_dataset(
    source: Path,
    workdir: Path | None = None,
    on_event: ProgressCallback | None = None,
    cancel: CancelFlag | None = None,
) -> Dataset:
    """Check a folder, or unpack a .zip into `workdir` (a new temporary folder if None) and check that."""
    source = Path(source)
    if source.is_dir():
        return check_folder(source, on_event, cancel)
    if not source.exists():
        raise CatbreedError("dataset.no_source", path=str(source))
    if source.suffix.lower() != ".zip" and not zipfile.is_zipfile(source):
        raise CatbreedError("dataset.not_folder_or_zip", name=source.name)
    workdir = Path(workdir or new_temp_folder("data"))
    extraction = extract_zip(source, workdir)
    skipped = [Skipped(name, reason) for name, reason in extraction.skipped]
    return check_folder(workdir, on_event, cancel, skipped, source_name=source.name)

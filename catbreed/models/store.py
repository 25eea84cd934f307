"""Saved models: the folders under CATBREED_HOME/models, and the server's default.

A model's name is its folder's name, chosen by the user. Which model a person uses is theirs (the
app keeps it in their URL); the default, used by anyone who has not chosen, is kept in a small
file written atomically and changed only on purpose (the Models page's labelled action, the CLI).

Each model folder also holds `owner.json` (owners.Ownership), written with the bundle in one
rename and left out of downloads. Saves hold a file lock from the name check to the rename, so two saves under one name cannot both
succeed, whichever process they come from; `recover` puts back what a crash mid-save left aside.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from filelock import FileLock

from catbreed import paths
from catbreed.errors import CatbreedError
from catbreed.messages import Message, message
from catbreed.models.bundle import METADATA_FILE, ModelBundle, read_metadata
from catbreed.models.metadata import BUILTIN_NAME, Estimate, ModelMetadata
from catbreed.owners import Ownership, Visitor
from catbreed.paths import atomic_write_bytes, models_dir, recover_folders, zip_folder

DEFAULT_FILE = ".default"
CHOICES_FILE = ".choices.json"  # each person's own choice: identity -> a model's name or BUILTIN
KEPT_CHOICES = 10_000  # people whose choice is kept at most; the ones who chose longest ago go first
LOCK_FILE = ".lock"
BUILTIN = ".builtin"  # a choice of the built-in model; no saved model's name starts with "."
OWNER_FILE = "owner.json"


@dataclass(frozen=True)
class SavedModel:
    name: str
    path: Path
    metadata: ModelMetadata
    ownership: Ownership = field(default_factory=Ownership)

    @property
    def expected_accuracy(self) -> Estimate | None:
        return self.metadata.expected_accuracy

    @property
    def classes(self) -> list[str]:
        return self.metadata.classes

    @property
    def created(self) -> str:
        return self.metadata.created


def check_name(name: str) -> str:
    return paths.check_name(name, "model", "my cats")


def suggest_name(mode: str, classes: list[str]) -> str:
    """A model name from the mode and whole breed names, never cut mid-word: 'quick Bengal-Birman'
    or, when the breeds do not fit, 'quick 12 breeds'."""
    name = f"{mode} {'-'.join(classes)}"
    return name if len(name) <= 40 else f"{mode} {len(classes)} breeds"


@dataclass(frozen=True)
class Choice:
    """The model a person gets: `model` None is the built-in one; `notice` says why it is not the
    one they asked for (deleted, damaged), for the page to show once."""

    model: SavedModel | None
    notice: Message | None = None

    @property
    def key(self) -> str:
        """What to keep in the person's URL to get this model again."""
        return self.model.name if self.model else BUILTIN


class ModelStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else models_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.root / LOCK_FILE)

    def list(self) -> list[SavedModel]:
        """Saved models, newest first; folders that are not models of this catbreed are passed over."""
        models = [model for folder in self.root.iterdir() if (model := self.find(folder.name))]
        return sorted(models, key=lambda m: m.created, reverse=True)

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def find(self, name: str | None) -> SavedModel | None:
        """The saved model of this name, or None when there is none (or its card cannot be read).
        `name` may come from a URL: anything that is not a model's name (a path, '..', 300
        characters) is no model, never a folder outside the models folder."""
        try:
            path = self.path(name or "")
        except CatbreedError:
            return None
        if not (path / METADATA_FILE).is_file():
            return None
        try:
            return SavedModel(path.name, path, read_metadata(path), _read_ownership(path))
        except (CatbreedError, ValueError, KeyError, OSError, TypeError, AttributeError):
            return None

    def save(self, bundle: ModelBundle, name: str, overwrite: bool = False, owner: str | None = None) -> SavedModel:
        """Keep `bundle` as `name`, owned by the identity `owner` (None: the house's, as the CLI saves)."""
        path = self.path(name)
        ownership = Ownership(owner)
        with self._lock:
            if path.exists() and not overwrite:
                raise CatbreedError("store.exists", name=path.name)
            bundle.save(path, extra_files={OWNER_FILE: _ownership_bytes(ownership)})
        return SavedModel(path.name, path, bundle.metadata, ownership)

    def share(self, name: str, shared: bool) -> None:
        """Let everyone on the server use and download the model (never change it), or stop."""
        model = self.find(name)
        if model is None:
            raise CatbreedError("store.no_model", name=name)
        with self._lock:
            if not shared and self.default_name() == model.name:
                raise CatbreedError("store.default_stays_shared", name=model.name)
            ownership = Ownership(model.ownership.owner, bool(shared))
            atomic_write_bytes(model.path / OWNER_FILE, _ownership_bytes(ownership))

    def recover(self) -> list[str]:
        """Put back models a crash mid-save left aside and drop half-written ones; call at start-up."""
        with self._lock:
            return recover_folders(self.root)

    def load(self, name: str) -> ModelBundle:
        return ModelBundle.load(self.path(name))

    def delete(self, name: str) -> None:
        path = self.path(name)
        with self._lock:
            if not path.is_dir():
                raise CatbreedError("store.no_model", name=name)
            if self.default_name() == path.name:
                (self.root / DEFAULT_FILE).unlink(missing_ok=True)
            shutil.rmtree(path)

    def default_name(self) -> str | None:
        """The server default's name, or None for the built-in ImageNet model."""
        try:
            name = (self.root / DEFAULT_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name / METADATA_FILE).is_file() else None

    def default(self) -> SavedModel | None:
        """The server's default model, or None when it is the built-in ImageNet model."""
        return self.find(self.default_name())

    def set_default(self, name: str | None) -> None:
        """Make `name` (None: the built-in model) the model of everyone who has not chosen one."""
        if name is None:
            (self.root / DEFAULT_FILE).unlink(missing_ok=True)
            return
        if (model := self.find(name)) is None:
            raise CatbreedError("store.no_model", name=name)
        if model.ownership.owner is not None and not model.ownership.shared:
            raise CatbreedError("store.share_first", name=model.name)
        atomic_write_bytes(self.root / DEFAULT_FILE, name.encode("utf-8"))

    def keep_choice(self, identity: str, wanted: str | None) -> None:
        """Remember what the person `identity` chose (a name, BUILTIN, or None: forget it), so that
        they get it again on a later visit that does not say which model."""
        with self._lock:
            choices = dict(self._choices())
            choices.pop(identity, None)  # a renewed choice is the newest: dicts keep insertion order
            if wanted is not None:
                choices[identity] = wanted
            kept = dict(list(choices.items())[-KEPT_CHOICES:])
            atomic_write_bytes(self.root / CHOICES_FILE, json.dumps(kept).encode("utf-8"))

    def kept_choice(self, identity: str) -> str | None:
        """What `identity` chose last, as `keep_choice` kept it, or None."""
        return self._choices().get(identity)

    def _choices(self) -> Mapping[str, str]:
        """Everyone's choices, read once per version of the file (every page run of a person with no
        choice in their URL asks, and the file may hold thousands)."""
        path = self.root / CHOICES_FILE
        try:
            version = path.stat()
        except FileNotFoundError:
            return {}
        return _read_choices(path, version.st_ino, version.st_mtime_ns, version.st_size)

    def choose(self, wanted: str | None, visitor: Visitor | None = None) -> Choice:
        """The model for a person who asked for `wanted` (a name, BUILTIN, or None: no choice yet);
        `visitor` None is the CLI's operator, who may use any. A model that is gone, or not shared
        with the visitor (they are told alike), gives the default, with a notice saying so."""
        if wanted == BUILTIN:
            return Choice(None)
        if wanted is None:
            return Choice(self.default())
        if (model := self.find(wanted)) and (visitor is None or visitor.may_open(model.ownership)):
            return Choice(model)
        fallback = self.default()
        return Choice(
            fallback,
            message("store.model_not_here", wanted=wanted, fallback=fallback.name if fallback else BUILTIN_NAME),
        )

    def zip_file(self, name: str) -> BinaryIO:
        """The model folder as a .zip in a temporary file, for downloading; who owns it stays on the server."""
        return zip_folder(self.path(name), leave_out={OWNER_FILE})


@functools.lru_cache(maxsize=4)
def _read_choices(path: Path, *version: int) -> Mapping[str, str]:
    try:
        choices = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return MappingProxyType({})
    if not isinstance(choices, dict):
        return MappingProxyType({})
    return MappingProxyType({k: v for k, v in choices.items() if isinstance(v, str)})


def _ownership_bytes(ownership: Ownership) -> bytes:
    return json.dumps(ownership.to_json()).encode("utf-8")


def _read_ownership(folder: Path) -> Ownership:
    try:
        return Ownership.from_json(json.loads((folder / OWNER_FILE).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return Ownership()  # saved before owners were recorded, or by the CLI

"""Saved models: the folders under CATBREED_HOME/models, and the server's default.

A model's name is its folder's name, chosen by the user. Which model a person uses is theirs (the
app keeps it in their URL); the default, used by anyone who has not chosen, is kept in a small
file written atomically and changed only on purpose (the Models page's labelled action, the CLI).

Saves hold a file lock from the name check to the rename, so two saves under one name cannot both
succeed, whichever process they come from; `recover` puts back what a crash mid-save left aside.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from catbreed import paths
from catbreed.errors import CatbreedError
from catbreed.models.bundle import METADATA_FILE, ModelBundle, read_metadata
from catbreed.models.metadata import Estimate, ModelMetadata
from catbreed.models.predict import BUILTIN_NAME
from catbreed.paths import atomic_write_bytes, models_dir, recover_folders, zip_folder

DEFAULT_FILE = ".default"
LOCK_FILE = ".lock"
BUILTIN = ".builtin"  # a choice of the built-in model; no saved model's name starts with "."


@dataclass(frozen=True)
class SavedModel:
    name: str
    path: Path
    metadata: ModelMetadata

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
    notice: str | None = None

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
        try:
            return SavedModel(path.name, path, read_metadata(path)) if (path / METADATA_FILE).is_file() else None
        except (CatbreedError, ValueError, KeyError, OSError, TypeError):
            return None

    def save(self, bundle: ModelBundle, name: str, overwrite: bool = False) -> SavedModel:
        path = self.path(name)
        with self._lock:
            if path.exists() and not overwrite:
                raise CatbreedError(
                    f"A model named '{path.name}' exists already; choose another name or delete it first."
                )
            bundle.save(path)
        return SavedModel(path.name, path, bundle.metadata)

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
                raise CatbreedError(f"No saved model named '{name}'.")
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
        if self.find(name) is None:
            raise CatbreedError(f"No saved model named '{name}'.")
        atomic_write_bytes(self.root / DEFAULT_FILE, name.encode("utf-8"))

    def choose(self, wanted: str | None) -> Choice:
        """The model for a person who asked for `wanted` (a name, BUILTIN, or None: no choice yet).
        A model that is gone gives the default, with a notice saying so."""
        if wanted == BUILTIN:
            return Choice(None)
        if wanted is None:
            return Choice(self.default())
        if model := self.find(wanted):
            return Choice(model)
        fallback = self.default()
        return Choice(
            fallback,
            f"The model '{wanted}' is no longer here (it was deleted); you now use the default, "
            f"'{fallback.name if fallback else BUILTIN_NAME}'.",
        )

    def zip_bytes(self, name: str) -> bytes:
        """The model folder as a .zip, for downloading."""
        return zip_folder(self.path(name))

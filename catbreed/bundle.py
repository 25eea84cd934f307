"""The model bundle: one folder holding the Keras model, its labels and everything known about it.

    MODEL_DIR/model.keras      the classifier (see classifier.py)
    MODEL_DIR/labels.txt       one label per line, line i = class id i (for other tools)
    MODEL_DIR/metadata.json    backbone, image size, preprocessing, classes, data summary, split,
                               settings, metrics, creation time, library versions

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

from catbreed.classifier import BREEDS
from catbreed.errors import CatbreedError

MODEL_FILE, LABELS_FILE, METADATA_FILE = "model.keras", "labels.txt", "metadata.json"
FORMAT_VERSION = 1
EXPORT_FORMATS = ("tflite", "saved_model")


def library_versions() -> dict[str, str]:
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
    }


@dataclass
class ModelBundle:
    model: keras.Model
    classes: list[str]  # class id i is classes[i]; the order of the model's "breeds" output
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        n_outputs = self.model.output[BREEDS].shape[-1]
        if n_outputs != len(self.classes):
            raise CatbreedError(f"The model predicts {n_outputs} classes but {len(self.classes)} labels were given.")

    @property
    def image_size(self) -> int:
        return self.model.input_shape[1]

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {
            **self.metadata,
            "format_version": FORMAT_VERSION,
            "classes": self.classes,
            "image_size": self.image_size,
            "created": self.metadata.get("created") or datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": library_versions(),
        }
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        try:
            self.model.save(staging / MODEL_FILE)
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
        if not (path / METADATA_FILE).is_file() or not (path / MODEL_FILE).is_file():
            raise CatbreedError(
                f"'{path}' is not a catbreed model folder; expected {MODEL_FILE} and {METADATA_FILE} inside it."
            )
        try:
            metadata = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
            classes = metadata["classes"]
            model = keras.models.load_model(path / MODEL_FILE, compile=False)
        except (ValueError, KeyError, OSError, TypeError) as error:
            raise CatbreedError(
                f"The model in '{path}' could not be read ({type(error).__name__}); train it again."
            ) from None
        return cls(model, classes, metadata, path)

    def export(self, format: str, out: Path, quantize: bool = False) -> Path:
        """Write the classifier as a TFLite file (optionally dynamic-range quantised) or a SavedModel folder."""
        if format not in EXPORT_FORMATS:
            raise CatbreedError(f"Unknown export format '{format}'; expected one of: {', '.join(EXPORT_FORMATS)}.")
        if quantize and format != "tflite":
            raise CatbreedError("--quantize applies to the tflite format only.")
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
        try:
            self.model.export(staging / "saved_model", format="tf_saved_model", verbose=False)
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

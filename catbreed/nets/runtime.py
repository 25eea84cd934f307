"""The frozen network's forward pass on LiteRT: how features are computed and photos classified.

Each backbone's feature extractor (pixels -> pooled features and ImageNet probabilities, what
keras_features.feature_extractor computes in Keras) becomes a LiteRT flatbuffer once, cached in
CATBREED_HOME, named after its weights and the converter and runtime versions, so a change to any
of them makes a new file. A row that can append itself to a LiteRT graph (the EfficientNet-Lites
and their ensemble) is written straight from its weights in a fraction of a second, without
importing TensorFlow; the others are converted from their Keras model by TensorFlow's converter,
in a process of its own (16 s for Lite0, when it went that way).

LiteRT runs it with XNNPACK on the CPU's cores: on this project's 2-core machine, 5 ms a photo
against 9 ms for Keras at batch 32, and 5 ms against 16 ms for a single webcam snapshot, with
outputs equal to about 1e-5. Keras stays for what needs gradients (Grad-CAM) and for export;
training and prediction import neither Keras nor TensorFlow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from catbreed.errors import CatbreedError
from catbreed.messages import Message
from catbreed.nets.backbones import create_backbone, get_spec
from catbreed.nets.flatbuffer import Graph
from catbreed.paths import atomic_write_bytes, catbreed_home, temp_folder
from catbreed.versions import installed_version

if TYPE_CHECKING:
    import keras

EXTRACTOR_VERSION = 2  # bump when the extractor's outputs or the way it is written change
# The outputs' names: what the converter names a SavedModel's outputs, in the Keras model's order.
FEATURES_OUTPUT, IMAGENET_OUTPUT = "output_0", "output_1"


class FeatureExtractor(Protocol):
    """pixels -> [pooled features, ImageNet probabilities]: a LiteRTExtractor or the Keras model of
    keras_features.feature_extractor, interchangeably."""

    input_shape: tuple

    def predict_on_batch(self, pixels: np.ndarray) -> list[np.ndarray]: ...


def _versions() -> str:
    return f"tf{installed_version('tensorflow')}-litert{installed_version('ai-edge-litert')}"


def flatbuffer_path(backbone: str, home: Path | None = None) -> Path:
    spec = get_spec(backbone)
    name = f"{spec.name}-{spec.weights_id}-x{EXTRACTOR_VERSION}-{_versions()}.tflite"
    return (home or catbreed_home()) / "runtime" / name.replace("+", "_")


def written(backbone: str) -> bytes:
    """The extractor of a row that has `litert`, written straight from its weights."""
    spec = get_spec(backbone)
    graph = Graph()
    image = graph.input("image", (spec.image_size, spec.image_size, 3))
    features, imagenet = spec.litert(graph, image)
    return graph.to_bytes({"image": image}, {FEATURES_OUTPUT: features, IMAGENET_OUTPUT: imagenet})


def convert(model: keras.Model) -> bytes:
    """A Keras model as a float32 LiteRT flatbuffer, through a SavedModel (what the converter reads best)."""
    import tensorflow as tf

    with temp_folder("convert") as folder:
        model.export(folder / "saved_model", format="tf_saved_model", verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(str(folder / "saved_model")).convert()


class LiteRTExtractor:
    """float32 (N, S, S, 3) pixels in 0..255 -> [float32 (N, D) features, float32 (N, 1000) ImageNet
    probabilities], the same call as the Keras feature extractor's `predict_on_batch`.

    One interpreter answers one call at a time (LiteRT's rule); a lock lets the app's sessions share it.
    """

    def __init__(self, flatbuffer: Path, threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self._runner = Interpreter(
            model_path=str(flatbuffer), num_threads=threads or os.cpu_count() or 1
        ).get_signature_runner()
        ((self._input, details),) = self._runner.get_input_details().items()
        self.input_shape = (None, *(int(d) for d in details["shape"][1:]))
        self._lock = threading.Lock()

    def predict_on_batch(self, pixels: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            outputs = self._runner(**{self._input: np.asarray(pixels, dtype=np.float32)})
        return [outputs[FEATURES_OUTPUT].copy(), outputs[IMAGENET_OUTPUT].copy()]


_EXIT_BAD_INPUT = 2  # the conversion process's exit status for a CatbreedError, its message (JSON) on stderr


def _convert_to_file(backbone: str, path: str) -> None:
    """In a child process: build `backbone` from the registry and write its extractor's flatbuffer."""
    from catbreed.nets.keras_features import feature_extractor

    atomic_write_bytes(Path(path), convert(feature_extractor(create_backbone(backbone), get_spec(backbone).layers)))


def convert_in_child(backbone: str, path: Path) -> None:
    """Convert in a process of its own, so the memory the converter takes (1.8 GB for the
    three-network ensemble) goes back to the system instead of staying with a training or the app.

    A plain new interpreter (subprocess), not multiprocessing: a Dask worker, which runs the
    app's trainings, is a daemonic process and may not have multiprocessing children."""
    library_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [library_root, os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, "-m", "catbreed.nets.runtime", backbone, str(path)], capture_output=True, text=True, env=env
    )
    if run.returncode == _EXIT_BAD_INPUT:
        raise CatbreedError(Message.from_json(json.loads(run.stderr.strip().splitlines()[-1])))
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"converting {backbone} for LiteRT failed (exit {run.returncode}): {last}")


def load_extractor(backbone: str, home: Path | None = None) -> LiteRTExtractor:
    """The LiteRT extractor of registry row `backbone`, written or converted on first use."""
    path = flatbuffer_path(backbone, home)
    if not path.is_file():
        if get_spec(backbone).litert:
            atomic_write_bytes(path, written(backbone))
        else:
            convert_in_child(backbone, path)
    return LiteRTExtractor(path)


if __name__ == "__main__":  # convert_in_child's process: python -m catbreed.nets.runtime BACKBONE PATH
    try:
        _convert_to_file(*sys.argv[1:3])
    except CatbreedError as error:
        print(json.dumps(error.message.to_json()), file=sys.stderr)  # the parent says it in its own language
        sys.exit(_EXIT_BAD_INPUT)

"""The frozen network's forward pass on LiteRT: how features are computed and photos classified.

Each backbone's feature extractor (classifier.feature_extractor: pixels -> pooled features and
ImageNet probabilities) is converted once to a LiteRT flatbuffer and cached in CATBREED_HOME,
named after its weights and the converter and runtime versions, so a change to any of them makes
a new file. LiteRT runs it with XNNPACK on the CPU's cores: on this project's 2-core machine,
5 ms a photo against 9 ms for Keras at batch 32, and 5 ms against 16 ms for a single webcam
snapshot, with outputs equal to about 1e-5. Keras stays for what needs gradients (Grad-CAM) and
for export; training and prediction never build the Keras model, and the conversion runs in a
process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import keras
import numpy as np

from catbreed.errors import CatbreedError
from catbreed.nets.backbones import create_backbone, get_spec
from catbreed.nets.classifier import feature_extractor
from catbreed.paths import atomic_write_bytes, catbreed_home, temp_folder

EXTRACTOR_VERSION = 1  # bump when feature_extractor's outputs change


def _versions() -> str:
    import ai_edge_litert
    import tensorflow as tf

    return f"tf{tf.__version__}-litert{ai_edge_litert.__version__}"


def flatbuffer_path(backbone: str, home: Path | None = None) -> Path:
    spec = get_spec(backbone)
    name = f"{spec.name}-{spec.weights_id}-x{EXTRACTOR_VERSION}-{_versions()}.tflite"
    return (home or catbreed_home()) / "runtime" / name.replace("+", "_")


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
        # The SavedModel names its outputs output_0, output_1 in the order the Keras model lists them.
        return [outputs[name].copy() for name in sorted(outputs)]


_EXIT_BAD_INPUT = 2  # the conversion process's exit status for a CatbreedError, its message on stderr


def _convert_to_file(backbone: str, path: str) -> None:
    """In a child process: build `backbone` from the registry and write its extractor's flatbuffer."""
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
        raise CatbreedError(run.stderr.strip().splitlines()[-1])
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"converting {backbone} for LiteRT failed (exit {run.returncode}): {last}")


def load_extractor(backbone: str, home: Path | None = None) -> LiteRTExtractor:
    """The LiteRT extractor of registry row `backbone`, converted on first use."""
    path = flatbuffer_path(backbone, home)
    if not path.is_file():
        convert_in_child(backbone, path)
    return LiteRTExtractor(path)


if __name__ == "__main__":  # convert_in_child's process: python -m catbreed.nets.runtime BACKBONE PATH
    try:
        _convert_to_file(*sys.argv[1:3])
    except CatbreedError as error:
        print(error, file=sys.stderr)
        sys.exit(_EXIT_BAD_INPUT)

"""Backbone features ("bottlenecks"), computed once per photo and view, cached on disk.

The cache key is backbone + layer + preprocessing version + the photo's content hash, so the same
photo under another name, in another zip, or in a grown data set is never computed twice. Each
entry holds every view of the photo: the photo itself and, for augmentation, its mirror image.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from catbreed.dataset import Photo
from catbreed.images import iter_image_batches
from catbreed.paths import atomic_write_bytes
from catbreed.progress import FEATURES, Reporter

PREPROCESSING_VERSION = 2  # bump whenever decoding or resizing changes what the network sees
VIEWS = ("original", "mirrored")
BATCH_SIZE = 32


class FeatureExtractor(Protocol):
    """pixels -> [pooled features, ImageNet probabilities]: a LiteRT extractor (runtime.py) or the
    Keras model of classifier.feature_extractor."""

    input_shape: tuple

    def predict_on_batch(self, pixels: np.ndarray) -> list[np.ndarray]: ...


class FeatureCache:
    """float16 (len(VIEWS), *feature shape) per photo, in files named by content hash."""

    def __init__(self, home: Path, backbone: str, layer: str):
        self.folder = home / "features" / f"{backbone}-{layer}-p{PREPROCESSING_VERSION}"

    def _path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / f"{sha256}.npy"

    def get(self, sha256: str) -> np.ndarray | None:
        try:
            return np.load(self._path(sha256), allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError):
            return None  # absent, or a file cut short by a crash: compute it again

    def stats(self) -> tuple[int, int]:
        """(photos cached, bytes on disk)."""
        files = list(self.folder.rglob("*.npy")) if self.folder.exists() else []
        return len(files), sum(f.stat().st_size for f in files)

    def put(self, sha256: str, views: np.ndarray) -> np.ndarray:
        """Store `views` as float16 and return what was stored, so a fresh run and a cached run
        train on exactly the same numbers."""
        stored = views.astype(np.float16)
        buffer = io.BytesIO()
        np.save(buffer, stored, allow_pickle=False)
        atomic_write_bytes(self._path(sha256), buffer.getvalue())
        return stored


def views_of(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> float32 (len(VIEWS), H, W, 3), in the order of VIEWS."""
    return np.stack([image, image[:, ::-1]]).astype(np.float32)


def extract_features(
    photos: Sequence[Photo],
    extractor: FeatureExtractor,
    cache: FeatureCache,
    reporter: Reporter | None = None,
) -> np.ndarray:
    """float32 (N, len(VIEWS), *feature shape) for `photos`, computing only what the cache lacks."""
    reporter = reporter or Reporter()
    cached = {photo.sha256: cache.get(photo.sha256) for photo in photos}
    missing = list({p.sha256: p for p in photos if cached[p.sha256] is None}.values())
    reporter.start(FEATURES, len(missing))
    batches = iter_image_batches([p.path for p in missing], extractor.input_shape[1], BATCH_SIZE)
    for start, images in batches:
        batch = missing[start : start + len(images)]
        outputs = np.asarray(extractor.predict_on_batch(np.concatenate([views_of(i) for i in images]))[0])
        for photo, views in zip(batch, outputs.reshape(len(batch), len(VIEWS), *outputs.shape[1:])):
            cached[photo.sha256] = cache.put(photo.sha256, views)
        reporter.step(start + len(batch))
    return np.stack([cached[photo.sha256] for photo in photos]).astype(np.float32)

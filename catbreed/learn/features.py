"""Backbone features ("bottlenecks"), computed once per photo and view, cached on disk.

The cache key is backbone + layer + preprocessing version + view + the photo's content hash, so
the same photo under another name, in another zip, or in a grown data set is never computed
twice. A view is the photo itself or, for augmentation, its mirror image; each is computed only
when asked for, so a mode that does without mirror images never pays for them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from catbreed.data.dataset import Photo, checked_bytes
from catbreed.data.images import iter_image_batches
from catbreed.nets.backbones import get_spec
from catbreed.nets.runtime import FeatureExtractor
from catbreed.paths import atomic_write_bytes
from catbreed.progress import FEATURES, Reporter

PREPROCESSING_VERSION = 3  # bump whenever decoding, resizing or the cache's layout changes
ORIGINAL, MIRRORED = "original", "mirrored"
VIEWS = (ORIGINAL, MIRRORED)
BATCH_SIZE = 32


class FeatureCache:
    """float16 feature vectors, one file per photo and view, named by the photo's content hash."""

    def __init__(self, home: Path, backbone: str):
        layer = get_spec(backbone).layers.pooled
        self.folder = home / "features" / f"{backbone}-{layer}-p{PREPROCESSING_VERSION}"

    def _path(self, sha256: str, view: str) -> Path:
        return self.folder / view / sha256[:2] / f"{sha256}.npy"

    def get(self, sha256: str, view: str) -> np.ndarray | None:
        try:
            return np.load(self._path(sha256, view), allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError):
            return None  # absent, or a file cut short by a crash: compute it again

    def has(self, sha256: str, view: str) -> bool:
        return self._path(sha256, view).is_file()

    def stats(self) -> tuple[int, int]:
        """(photos cached, bytes on disk), counting each photo's views once."""
        files = list(self.folder.rglob("*.npy")) if self.folder.exists() else []
        return len({f.name for f in files}), sum(f.stat().st_size for f in files)

    def put(self, sha256: str, view: str, features: np.ndarray) -> np.ndarray:
        """Store `features` as float16 and return what was stored, so a fresh run and a cached run
        train on exactly the same numbers."""
        stored = features.astype(np.float16)
        buffer = io.BytesIO()
        np.save(buffer, stored, allow_pickle=False)
        atomic_write_bytes(self._path(sha256, view), buffer.getvalue())
        return stored


def view_of(image: np.ndarray, view: str) -> np.ndarray:
    """uint8 (H, W, 3) -> the same photo as `view` (one of VIEWS) sees it."""
    return image[:, ::-1] if view == MIRRORED else image


def extract_features(
    photos: Sequence[Photo],
    extractor: FeatureExtractor,
    cache: FeatureCache,
    reporter: Reporter | None = None,
    views: Sequence[str] = VIEWS,
) -> np.ndarray:
    """float32 (N, len(views), *feature shape) for `photos`, computing only what the cache lacks."""
    reporter = reporter or Reporter()
    cached = {(p.sha256, v): cache.get(p.sha256, v) for p in photos for v in views}
    missing = list({p.sha256: p for p in photos if any(cached[p.sha256, v] is None for v in views)}.values())
    reporter.start(FEATURES, len(missing))
    # Read through the photo's hash: a file changed since its check must never have its features
    # cached under the old photo's hash.
    batches = iter_image_batches(missing, extractor.input_shape[1], BATCH_SIZE, read=checked_bytes)
    for start, images in batches:
        wanted = [
            (photo.sha256, view, image)
            for photo, image in zip(missing[start : start + len(images)], images)
            for view in views
            if cached[photo.sha256, view] is None
        ]
        pixels = np.stack([view_of(image, view) for _, view, image in wanted]).astype(np.float32)
        outputs = np.asarray(extractor.predict_on_batch(pixels)[0])
        for (sha256, view, _), features in zip(wanted, outputs):
            cached[sha256, view] = cache.put(sha256, view, features)
        reporter.step(start + len(images))
    return np.stack([[cached[p.sha256, v] for v in views] for p in photos]).astype(np.float32)

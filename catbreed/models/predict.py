"""Predictions: the top breeds of a photo, and whether it shows a cat at all.

The cat verdict reads the backbone's ImageNet head from the same pass that gives the breeds, so
even a model that only knows 3 breeds can say that a teapot is probably not a cat.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

import numpy as np

from catbreed.data.images import ImageSource, iter_image_batches, load_for_model
from catbreed.models.bundle import ModelBundle
from catbreed.models.metadata import BUILTIN_NAME, IMAGENET, ModelMetadata
from catbreed.models.neighbours import Near
from catbreed.models.verdict import BREED, Thresholds, decide
from catbreed.nets.backbones import DEFAULT_BACKBONE, get_spec
from catbreed.nets.runtime import FeatureExtractor, load_extractor
from catbreed.progress import EVALUATING, Reporter

DOMESTIC_CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
# Measured on the 1,799 Oxford-IIIT cat photos: a summed probability >= 0.1 alone misses 156 of
# them (black Bombays and hairless Sphynxes look like dogs to ImageNet); also accepting a domestic
# cat among the 10 likeliest classes misses 26, while a teapot or a sofa has none there.
CAT_PROBABILITY_THRESHOLD = 0.1
CAT_TOP_K = 10
BATCH_SIZE = 32


@cache
def imagenet_labels() -> tuple[str, ...]:
    return tuple(files("catbreed.nets").joinpath("imagenet_classes.txt").read_text().splitlines())


def builtin_bundle(backbone_name: str = DEFAULT_BACKBONE) -> ModelBundle:
    """The model used before any training: the backbone's ImageNet classes, cat breeds among them."""
    spec, classes = get_spec(backbone_name), list(imagenet_labels())
    metadata = ModelMetadata(backbone_name, classes, spec.image_size, spec.preprocessing, IMAGENET, BUILTIN_NAME)
    return ModelBundle(backbone_name, classes, None, metadata)


@dataclass(frozen=True)
class Prediction:
    top: list[tuple[str, float]]  # (label, probability), likeliest first
    is_cat: bool
    cat_probability: float  # summed ImageNet probability of the domestic cat classes
    seconds: float = 0.0
    familiarity: float | None = None  # how like the breeds learned (familiarity.py); None: not judged
    verdict: str = BREED  # with the model's own thresholds
    # float32 (D,): the pooled features the head read, for what explains the answer (neighbours.py)
    features: np.ndarray | None = field(default=None, repr=False, compare=False)

    def judged(self, thresholds: Thresholds) -> str:
        """The verdict with other thresholds (a person's own, on the Classify page)."""
        return decide(self.top[0][1], self.familiarity, self.is_cat, thresholds)


def cat_verdict(imagenet_probabilities: np.ndarray) -> tuple[bool, float]:
    """(is it a cat, cat probability) from float32 (1000,) ImageNet probabilities."""
    cat_probability = float(imagenet_probabilities[DOMESTIC_CAT_CLASSES].sum())
    top = np.argsort(imagenet_probabilities)[::-1][:CAT_TOP_K]
    in_top = any(int(i) in DOMESTIC_CAT_CLASSES for i in top)
    return cat_probability >= CAT_PROBABILITY_THRESHOLD or in_top, cat_probability


class Predictor:
    """A bundle ready to answer: the backbone runs once per batch (on LiteRT), the head on its features."""

    def __init__(self, bundle: ModelBundle, extractor: FeatureExtractor | None = None):
        self.bundle = bundle
        self._extractor = extractor or load_extractor(bundle.backbone)

    def warm_up(self) -> None:
        """Run one blank photo through the model, so the first real answer is not slowed by tracing."""
        size = self.bundle.image_size
        self._extractor.predict_on_batch(np.zeros((1, size, size, 3), np.float32))

    def probabilities(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (N, S, S, 3) -> (float32 (N, C) breed probabilities, float32 (N, 1000) ImageNet ones)."""
        breeds, imagenet, _ = self.outputs(pixels)
        return breeds, imagenet

    def outputs(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """`probabilities` and float32 (N,) familiarity (None when the model does not judge it), one pass."""
        return self._outputs(pixels)[:3]

    def _outputs(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """`outputs` and the float32 (N, D) features they came from."""
        features, imagenet = self._extractor.predict_on_batch(pixels.astype(np.float32))
        imagenet, features = np.asarray(imagenet), np.asarray(features)
        head, familiarity = self.bundle.head, self.bundle.familiarity
        breeds = imagenet if head is None else head.predict_proba(features)
        return breeds, imagenet, None if familiarity is None else familiarity.score(features), features

    def _top(self, probabilities: np.ndarray, top_k: int, first: range = range(0)) -> list[tuple[str, float]]:
        """The `top_k` likeliest labels; those in `first` ahead of the rest, each group by probability."""
        order = sorted(np.argsort(probabilities)[::-1], key=lambda i: i not in first)[:top_k]
        return [(self.bundle.classes[i], float(probabilities[i])) for i in order]

    def predict(self, source: ImageSource, top_k: int = 3) -> Prediction:
        """Top `top_k` labels of one photo (path, bytes or PIL image); raises ImageProblem if unusable."""
        started = time.perf_counter()
        breeds, imagenet, familiarity, features = self._outputs(load_for_model(source, self.bundle.image_size)[None])
        is_cat, cat_probability = cat_verdict(imagenet[0])
        # The built-in model's 1000 classes hold 5 cat breeds; for a cat, those are the answer.
        first = DOMESTIC_CAT_CLASSES if is_cat and self.bundle.head is None else range(0)
        top = self._top(breeds[0], top_k, first)
        familiar = None if familiarity is None else float(familiarity[0])
        verdict = decide(top[0][1], familiar, is_cat, self.bundle.metadata.thresholds)
        seconds = time.perf_counter() - started
        return Prediction(top, is_cat, cat_probability, seconds, familiar, verdict, features[0])

    def nearest(self, prediction: Prediction, n: int, leave_out: str | None = None) -> list[Near]:
        """The `n` photos the model learned from that are most like the one `prediction` answered
        (none for a model that keeps none: the built-in one, older ones)."""
        kept = self.bundle.neighbours
        if kept is None or prediction.features is None:
            return []
        return kept.nearest(prediction.features[None], n, leave_out)[0]

    def breed_probabilities(self, sources: Sequence[ImageSource], reporter: Reporter | None = None) -> np.ndarray:
        """float32 (N, C) breed probabilities of many photos, batched."""
        reporter = reporter or Reporter()
        reporter.start(EVALUATING, len(sources))
        chunks = []
        for start, images in iter_image_batches(sources, self.bundle.image_size, BATCH_SIZE):
            chunks.append(self.probabilities(np.stack(images))[0])
            reporter.step(start + len(images))
        return np.concatenate(chunks) if chunks else np.zeros((0, len(self.bundle.classes)), np.float32)

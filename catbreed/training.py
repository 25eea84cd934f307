"""Transfer learning, start to finish: checked dataset -> split -> cached features -> head -> bundle.

Quick mode trains only a softmax head on the backbone's cached pooled features, which takes
seconds once the features exist. Fine-tune mode then retrains a copy of the backbone's top (the
last block and the head convolution) together with that head, at a small learning rate. It
learns from the cached feature maps where the top begins, so the frozen part of the CNN never
runs twice for the same photo. The fine-tuned top is kept only if it gets more validation
photos right (or as many, with a lower loss); otherwise the model stays the quick one, and the
metadata's "fine_tune" entry says so.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from catbreed import classifier
from catbreed.backbones import create_backbone, get_spec
from catbreed.bundle import ModelBundle
from catbreed.dataset import Dataset
from catbreed.evaluation import Evaluation, evaluate
from catbreed.features import FeatureCache, extract_features
from catbreed.head import build_head, fit
from catbreed.paths import catbreed_home
from catbreed.progress import FINE_TUNING, TRAINING, CancelFlag, ProgressCallback, Reporter
from catbreed.settings import FINE_TUNE, TrainSettings
from catbreed.split import Split, split_photos


@dataclass
class TrainResult:
    bundle: ModelBundle  # not yet saved: the caller chooses where
    dataset: Dataset
    split: Split
    val_accuracy: float | None
    test: Evaluation | None  # on the held-out test photos
    seconds: float


def _views(features: np.ndarray, indices: list[int], labels: np.ndarray, all_views: bool):
    """Training pairs from float32 (N, V, ...) features: every view of each photo, or only the photo."""
    chosen = features[indices] if all_views else features[indices, :1]
    n_views = chosen.shape[1]
    return chosen.reshape(-1, *chosen.shape[2:]), np.repeat(labels[indices], n_views)


def _validation_score(model: keras.Model, x: np.ndarray, y: np.ndarray, label_smoothing: float) -> dict | None:
    """Accuracy and loss on the validation photos, or None when there are none."""
    if not len(y):
        return None
    probabilities = model.predict(x, verbose=0)
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    return {
        "accuracy": float((probabilities.argmax(1) == y).mean()),
        "loss": float(loss(keras.utils.to_categorical(y, probabilities.shape[-1]), probabilities)),
    }


def _better(after: dict | None, before: dict | None) -> bool:
    """More photos right, or as many right with a lower loss; without validation photos, trust training."""
    if before is None or after is None:
        return True
    return (after["accuracy"], -after["loss"]) > (before["accuracy"], -before["loss"])


def train(
    dataset: Dataset,
    settings: TrainSettings = TrainSettings(),
    on_event: ProgressCallback | None = None,
    cancel: CancelFlag | None = None,
    home: Path | None = None,
    backbone: keras.Model | None = None,
) -> TrainResult:
    """Train a breed classifier on `dataset`; pass `backbone` to reuse one already built."""
    started = time.perf_counter()
    home = home or catbreed_home()
    reporter = Reporter(on_event, cancel)
    keras.utils.set_random_seed(settings.seed)
    spec = get_spec(settings.backbone)
    backbone = backbone or create_backbone(settings.backbone)
    split = split_photos(dataset.photos, settings.val_percent, settings.test_percent)
    labels = np.asarray(dataset.label_ids())
    n_classes = len(dataset.classes)

    pooled = extract_features(
        dataset.photos,
        classifier.feature_extractor(backbone),
        FeatureCache(home, spec.name, "avg_pool"),
        reporter,
    )
    head = build_head(pooled.shape[-1], n_classes, settings.dropout)
    fit_settings = dict(
        batch_size=settings.batch_size,
        label_smoothing=settings.label_smoothing,
        patience=settings.patience,
        reporter=reporter,
    )
    fit(
        head,
        _views(pooled, split.train, labels, settings.augment),
        _views(pooled, split.val, labels, False),
        stage=TRAINING,
        epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        **fit_settings,
    )
    scorer, inputs, tuned_top = head, pooled, None
    fine_tune_report = None

    if settings.mode == FINE_TUNE:
        trunk, top = classifier.split_backbone(backbone, spec)
        maps = extract_features(dataset.photos, trunk, FeatureCache(home, spec.name, spec.fine_tune_from), reporter)
        candidate = classifier.trainable_copy(top)
        feature_map = keras.Input(trunk.output_shape[1:], name="feature_map")
        fine_tuned = keras.Model(feature_map, head(candidate(feature_map)), name="fine_tuned")
        val_maps = _views(maps, split.val, labels, False)
        quick_head_weights = head.get_weights()
        before = _validation_score(fine_tuned, *val_maps, settings.label_smoothing)
        fit(
            fine_tuned,
            _views(maps, split.train, labels, settings.augment),
            val_maps,
            stage=FINE_TUNING,
            epochs=settings.fine_tune_epochs,
            learning_rate=settings.fine_tune_learning_rate,
            **fit_settings,
        )
        after = _validation_score(fine_tuned, *val_maps, settings.label_smoothing)
        # On small data the retrained top can overfit; keep it only where validation says it helped.
        kept = _better(after, before)
        fine_tune_report = {"kept": kept, "validation_before": before, "validation_after": after}
        if kept:
            scorer, inputs, tuned_top = fine_tuned, maps, candidate
        else:
            head.set_weights(quick_head_weights)

    reporter.check_cancelled()
    validation = _validation_score(scorer, *_views(inputs, split.val, labels, False), settings.label_smoothing)
    val_accuracy = validation["accuracy"] if validation else None
    test = None
    if split.test:
        x_test, y_test = _views(inputs, split.test, labels, False)
        test = evaluate(
            scorer.predict(x_test, verbose=0), y_test, dataset.classes, [dataset.photos[i].name for i in split.test]
        )
    metadata = {
        "backbone": spec.name,
        "preprocessing": spec.preprocessing,
        "data": {
            "counts": dataset.counts,
            "skipped": len(dataset.skipped),
            "duplicates": len(dataset.duplicates),
            "warnings": dataset.warnings,
        },
        "split": {**split.sizes(), "val_percent": settings.val_percent, "test_percent": settings.test_percent},
        "settings": dataclasses.asdict(settings),
        "metrics": {"val_accuracy": val_accuracy, "test_accuracy": test.accuracy if test else None},
        "fine_tune": fine_tune_report,
        "test_evaluation": test.to_dict() if test else None,
    }
    bundle = ModelBundle(classifier.compose(backbone, spec, head, tuned_top), list(dataset.classes), metadata)
    return TrainResult(bundle, dataset, split, val_accuracy, test, time.perf_counter() - started)

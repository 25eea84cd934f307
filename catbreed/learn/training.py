"""Transfer learning, start to finish: checked dataset -> features -> honest estimate -> head -> bundle.

1. The backbone's pooled features of every photo (and, where the mode asks, its mirror image)
   are computed once and cached (features.py); every later step takes seconds.
2. Cross-validation (estimate.py) gives every photo a prediction from a head that never saw it
   nor its near-duplicates: the expected accuracy on new photos, with its interval, and the
   per-breed results, confusion matrix and mistakes over all photos.
3. A temperature fitted on those out-of-fold predictions makes the probabilities say what they
   mean (calibration.py).
4. The head that ships is trained on every photo, the settings unchanged: no photo is held back
   for a fixed test set unless asked (`test_percent`), and then only to be scored once at the end.
"""

from __future__ import annotations

import dataclasses
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from catbreed.data.dataset import Dataset, checked_bytes
from catbreed.data.images import load_for_model
from catbreed.data.split import Split, cv_folds, near_duplicate_groups, split_photos
from catbreed.errors import CatbreedError
from catbreed.learn.calibration import (
    calibrated,
    coverage_curve,
    expected_calibration_error,
    fit_temperature,
)
from catbreed.learn.estimate import accuracy_estimate, describe_method, out_of_fold_logits
from catbreed.learn.features import ORIGINAL, VIEWS, FeatureCache, extract_features
from catbreed.learn.learning_curve import learning_curve
from catbreed.learn.pace import MIN_PHOTOS_FITTED, MIN_PHOTOS_MEASURED, PaceBook
from catbreed.learn.settings import MODE_TABLE, TrainSettings
from catbreed.learn.verdicts import (
    choose_thresholds,
    components_for,
    out_of_fold_familiarity,
    unseen_breed_familiarity,
)
from catbreed.models.bundle import ModelBundle
from catbreed.models.card import SAMPLE_PHOTOS
from catbreed.models.evaluation import Answer, Evaluation, answers, evaluate
from catbreed.models.head import LinearHead
from catbreed.models.metadata import (
    Calibration,
    DataSource,
    DataSummary,
    Estimate,
    Metrics,
    ModelMetadata,
    SplitSummary,
)
from catbreed.models.neighbours import Neighbours
from catbreed.models.verdict import VERDICTS
from catbreed.nets.backbones import get_spec
from catbreed.nets.runtime import FeatureExtractor, flatbuffer_path, load_extractor
from catbreed.paths import catbreed_home
from catbreed.progress import TRAINING, CancelFlag, ProgressCallback, Reporter


@dataclass
class TrainResult:
    bundle: ModelBundle  # not yet saved: the caller chooses where; its metadata holds the figures
    dataset: Dataset
    split: Split
    seconds: float
    answers: list[Answer]  # out-of-fold, one per photo trained on: what it said of each photo

    # The figures are the bundle's, read from its metadata: one source, whatever shows them.
    @property
    def estimate(self) -> Estimate:
        """Expected accuracy on new photos."""
        return self.bundle.metadata.metrics.expected_accuracy

    @property
    def evaluation(self) -> Evaluation:
        """Out-of-fold, over every photo trained on."""
        return self.bundle.metadata.evaluation

    @property
    def test(self) -> Evaluation | None:
        """On the held-out test photos, when asked for."""
        return self.bundle.metadata.test_evaluation

    def answers_for(self, true: str | None = None, predicted: str | None = None) -> list[Answer]:
        """The photos of one confusion-matrix cell (or row, or column), least sure first."""
        chosen = [
            a
            for a in self.answers
            if (true is None or a.true == true) and (predicted is None or a.predicted == predicted)
        ]
        return sorted(chosen, key=lambda a: a.probability)

    def least_sure(self, n: int) -> list[Answer]:
        return sorted(self.answers, key=lambda a: a.probability)[:n]

    def to_plain(self) -> dict:
        """What a training worker sends back (jobs.py): bytes, strings and numbers only, never an
        object the server would have to unpickle. The dataset stays out: the server sent it."""
        return {
            "bundle": self.bundle.to_files(),
            "split": {"train": [int(i) for i in self.split.train], "test": [int(i) for i in self.split.test]},
            "seconds": float(self.seconds),
            "answers": [[a.path, a.true, a.predicted, a.probability, a.verdict] for a in self.answers],
        }

    @classmethod
    def from_plain(cls, plain: dict, dataset: Dataset) -> TrainResult:
        """`to_plain`'s output, checked as untrusted data against the photos the server sent: the
        bundle passes every check a saved model's does, every index and name is one of them."""
        try:
            bundle = ModelBundle.from_files(plain["bundle"])
            train, test = ([int(i) for i in plain["split"][part]] for part in ("train", "test"))
            answers = [Answer(str(p), str(t), str(w), float(q), str(v)) for p, t, w, q, v in plain["answers"]]
            names, classes = {p.name for p in dataset.photos}, set(dataset.classes)
            wrong = bundle.classes != list(dataset.classes) or not all(
                0 <= i < len(dataset.photos) for i in train + test
            )
            wrong = wrong or not all(
                a.path in names
                and {a.true, a.predicted} <= classes
                and 0 <= a.probability <= 1
                and a.verdict in VERDICTS
                for a in answers
            )
            if wrong or bundle.metadata.metrics is None:
                raise ValueError("does not match the photos sent")
            if bundle.metadata.evaluation is None:
                raise ValueError("carries no evaluation")
            return cls(bundle, dataset, Split(train, test), float(plain["seconds"]), answers)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CatbreedError("training.bad_result", problem=str(error)) from None


def sample_photos(dataset: Dataset, size: int, n: int = SAMPLE_PHOTOS) -> list[bytes]:
    """Up to `n` photos, taken from each breed in turn, as JPEGs of what the model sees: the
    bundle keeps them to check every export of the model against the app's answers."""
    by_breed = [[p for p in dataset.photos if p.label == label] for label in dataset.classes]
    chosen = [photos[i] for i in range(max(map(len, by_breed), default=0)) for photos in by_breed if i < len(photos)]
    samples = []
    for photo in chosen[:n]:
        buffer = io.BytesIO()
        Image.fromarray(load_for_model(checked_bytes(photo), size)).save(buffer, "JPEG", quality=95)
        samples.append(buffer.getvalue())
    return samples


def _views(settings: TrainSettings) -> tuple[str, ...]:
    return VIEWS if settings.augment else (ORIGINAL,)


@dataclass(frozen=True)
class ExpectedTime:
    """About how long a training takes on this machine, before it starts, in its parts."""

    features: float  # writing the backbone's flatbuffer on first use and the photos whose features this machine lacks
    fits: float  # cross-validation, the verdicts' fits and the final fit, for every photo
    overhead: float = 0.0  # around the training: a job's hand-over to its worker (jobs.py)

    @property
    def total(self) -> float:
        return self.features + self.fits + self.overhead


def _new_photos(dataset: Dataset, settings: TrainSettings, home: Path) -> int:
    """How many of the photos this machine has no cached features of, for every view asked."""
    cache, views = FeatureCache(home, settings.backbone), _views(settings)
    return sum(not all(cache.has(p.sha256, v) for v in views) for p in dataset.photos)


def expected_time(
    dataset: Dataset, settings: TrainSettings, home: Path | None = None, network_ready: bool = False
) -> ExpectedTime:
    """From this machine's measured rates (pace.py; the mode's benchmarked ones until there are some)
    and what it has cached; `network_ready`: the backbone's flatbuffer is written by then anyway."""
    home = home or catbreed_home()
    mode = MODE_TABLE[settings.mode]
    pace = PaceBook(home).pace(settings.pace_key, mode.pace)
    new = _new_photos(dataset, settings, home)
    ready = network_ready or flatbuffer_path(settings.backbone, home).is_file()
    first_use = 0 if ready else mode.first_use_seconds
    return ExpectedTime(
        first_use + new * pace.seconds_per_new_photo, pace.fixed_seconds + len(dataset.photos) * pace.seconds_per_photo
    )


def _record_pace(home: Path, settings: TrainSettings, new: int, features: float, photos: int, after: float) -> None:
    """Teach this machine's pace book what this training measured (`after`: from the features on)."""
    rates = {}
    if new >= MIN_PHOTOS_MEASURED:
        rates["seconds_per_new_photo"] = features / new
    if photos >= MIN_PHOTOS_FITTED:
        fixed = MODE_TABLE[settings.mode].pace.fixed_seconds
        rates["seconds_per_photo"] = max(after - features - fixed, 0.0) / photos
    if rates:
        PaceBook(home).record(settings.pace_key, **rates)


def train(
    dataset: Dataset,
    settings: TrainSettings = TrainSettings(),
    on_event: ProgressCallback | None = None,
    cancel: CancelFlag | None = None,
    home: Path | None = None,
    extractor: FeatureExtractor | None = None,
    source: DataSource | None = None,
) -> TrainResult:
    """Train a breed classifier on `dataset`; pass the backbone's `extractor` to reuse one already
    loaded, and `source` when the photos are a saved data set the model should name."""
    started = time.perf_counter()
    home = home or catbreed_home()
    reporter = Reporter(on_event, cancel)
    spec = get_spec(settings.backbone)
    extractor = extractor or load_extractor(spec.name, home=home)
    split = split_photos(dataset.photos, settings.test_percent)
    labels = np.asarray(dataset.label_ids())
    classes = list(dataset.classes)

    new, features_started = _new_photos(dataset, settings, home), time.perf_counter()
    features = extract_features(dataset.photos, extractor, FeatureCache(home, spec.name), reporter, _views(settings))
    features_seconds = time.perf_counter() - features_started

    def make_head() -> LinearHead:
        return LinearHead(spec.feature_blocks, len(classes), settings.inverse_regularization, settings.seed)

    train_ids = np.asarray(split.train)
    x, y = features[train_ids], labels[train_ids]
    folds = cv_folds(y, near_duplicate_groups([dataset.photos[i] for i in train_ids]), settings.seed)
    oof_logits = out_of_fold_logits(x, y, folds, make_head, reporter)
    batch = len(y) // len(folds)  # a fold's worth of new photos
    estimate = accuracy_estimate(oof_logits.argmax(1), y, batch, describe_method(len(folds), len(y), batch))
    curve = learning_curve(x, y, folds, make_head, classes, estimate, oof_logits, batch, settings.seed, reporter)
    temperature = fit_temperature(oof_logits, y)

    oof_probabilities = calibrated(oof_logits, temperature)
    known, familiarity = out_of_fold_familiarity(x[:, 0], y, folds, spec.feature_blocks, settings.seed)
    unseen = unseen_breed_familiarity(x[:, 0], y, spec.feature_blocks, settings.seed, components_for(folds))
    chosen = choose_thresholds(oof_probabilities, y, known, unseen)

    reporter.start(TRAINING, 1)
    head = make_head().fit(x, y)
    head.temperature_ = temperature
    reporter.step(1)

    names = [dataset.photos[i].name for i in train_ids]
    evaluation = evaluate(oof_probabilities, y, classes, names)
    test = None
    if split.test:
        test = evaluate(
            head.predict_proba(features[split.test, 0]),
            labels[split.test],
            classes,
            [dataset.photos[i].name for i in split.test],
        )
    neighbours = Neighbours(spec.feature_blocks, settings.seed).fit(x[:, 0], y, names)
    metadata = ModelMetadata(
        backbone=spec.name,
        classes=classes,
        image_size=spec.image_size,
        preprocessing=spec.preprocessing,
        data=DataSummary(
            dataset.counts,
            len(dataset.skipped),
            len(dataset.duplicates),
            dataset.warnings,
            fingerprint=dataset.fingerprint,
            notes=dataset.notes,
            source=source,
        ),
        split=SplitSummary(**split.sizes(), folds=len(folds), test_percent=settings.test_percent),
        settings=dataclasses.asdict(settings),
        metrics=Metrics(
            expected_accuracy=estimate,
            calibration=Calibration(
                temperature=temperature,
                ece_before=expected_calibration_error(calibrated(oof_logits, 1.0), y),
                ece_after=expected_calibration_error(oof_probabilities, y),
            ),
            test_accuracy=test.accuracy if test else None,
            not_sure_below=chosen.thresholds.not_sure_below,
            coverage=coverage_curve(oof_probabilities, y),
            unknown_below=chosen.thresholds.unknown_below,
            unknown_curve=chosen.curve,
            verdicts=chosen.summary,
            learning_curve=curve,
        ),
        evaluation=evaluation,
        test_evaluation=test,
        seconds=round(time.perf_counter() - started, 2),
        kept_photos=len(neighbours.names_),
    )
    bundle = ModelBundle(
        spec.name,
        classes,
        head,
        metadata,
        samples=sample_photos(dataset, spec.image_size),
        familiarity=familiarity,
        neighbours=neighbours,
    )
    seconds = time.perf_counter() - started
    _record_pace(home, settings, new, features_seconds, len(dataset.photos), time.perf_counter() - features_started)
    return TrainResult(bundle, dataset, split, seconds, answers(oof_probabilities, y, classes, names, chosen.verdicts))

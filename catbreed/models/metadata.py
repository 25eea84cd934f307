"""Everything known about a model, as one typed record: `metadata.json` in a bundle.

Training fills it in, the bundle writes and checks it, and every face reads its fields by name,
never by string keys. `from_json` refuses a bundle of another format with a message that says
what to do, and a file that is not a catbreed model with one that says what it is not.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from catbreed.errors import CatbreedError
from catbreed.messages import ENGLISH, Message, Percent, message
from catbreed.models.evaluation import Evaluation
from catbreed.models.verdict import UNCALIBRATED_NOT_SURE, Thresholds

BUILTIN_NAME = "ImageNet (built-in)"  # the model in use before any training: the backbone's own classes
FORMAT_VERSION = 2  # 1: a whole Keras model per bundle, trained by the Adam head
BREEDS, IMAGENET = "breeds", "imagenet"  # what a model's classes are


@dataclass(frozen=True)
class Estimate:
    """The expected accuracy on new photos and its 95% interval (learn/estimate.py computes it)."""

    value: float  # fraction of photos right
    low: float
    high: float
    method: Message  # how it was estimated; stored as its code (older models: text)

    def describe(self, language: str = ENGLISH) -> str:
        """'90.7% (87.2%-93.9%)', '90,7% (87,2%-93,9%)' in Portuguese"""
        shown = message("estimate.value", value=Percent(self.value), low=Percent(self.low), high=Percent(self.high))
        return shown.text(language)


@dataclass(frozen=True)
class Calibration:
    temperature: float  # divides the head's logits
    ece_before: float  # expected calibration error of the out-of-fold answers, before and after
    ece_after: float


@dataclass(frozen=True)
class VerdictSummary:
    """What the default thresholds (learn/verdicts.py) did to the photos trained on, each judged by a
    model that had not seen it: shares of the photos, and the share of left-out breeds caught."""

    named: float  # given a breed
    named_accuracy: float  # of those, right
    not_sure: float
    unknown: float  # called "not one of my breeds" although they are
    unseen_caught: float  # of photos of breeds left out of the fit, called "not one of my breeds"


@dataclass(frozen=True)
class CurvePoint:
    """One point of the learning curve (learn/learning_curve.py): the out-of-fold accuracy, its
    interval and each breed's recall, with its own interval, with at most this many photos per breed."""

    photos_per_breed: int
    value: float
    low: float
    high: float
    recall: dict[str, float] = field(default_factory=dict)
    recall_low: dict[str, float] = field(default_factory=dict)  # older models: none
    recall_high: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Metrics:
    expected_accuracy: Estimate
    calibration: Calibration
    test_accuracy: float | None = None  # on a held-out test set, when one was asked for
    not_sure_below: float | None = None  # the default threshold for "not sure" (learn/verdicts.py)
    coverage: list[tuple[float, float, float]] = field(default_factory=list)  # (threshold, coverage, accuracy)
    unknown_below: float | None = None  # default familiarity threshold (models/familiarity.py); None: not judged
    # (share of its own photos called unknown, familiarity threshold, share of left-out breeds caught)
    unknown_curve: list[tuple[float, float, float]] = field(default_factory=list)
    verdicts: VerdictSummary | None = None
    learning_curve: list[CurvePoint] = field(default_factory=list)  # smallest first; older models: none


@dataclass(frozen=True)
class DataSource:
    """The saved data set (data/saved_datasets.py) a model learned from, at which version."""

    dataset_id: str
    version: int
    name: str


@dataclass(frozen=True)
class DataSummary:
    counts: dict[str, int]  # photos per breed
    skipped: int
    duplicates: int
    warnings: list[Message]  # stored as codes and parameters (catbreed/messages.py)
    fingerprint: str = ""  # the same for two models trained on the same photos with the same breeds
    notes: str = ""  # the data set's own README or licence text, for citing it
    source: DataSource | None = None  # None: photos from a zip or folder, not kept by the app


@dataclass(frozen=True)
class SplitSummary:
    train: int
    test: int
    folds: int
    test_percent: int


@dataclass
class ModelMetadata:
    backbone: str  # registry name
    classes: list[str]  # class id i is classes[i]
    image_size: int
    preprocessing: str
    kind: str = BREEDS  # IMAGENET: the built-in model, whose classes are ImageNet's own
    name: str = ""
    data: DataSummary | None = None
    split: SplitSummary | None = None
    settings: dict = field(default_factory=dict)  # TrainSettings' fields
    metrics: Metrics | None = None
    evaluation: Evaluation | None = None  # out-of-fold, over every photo trained on
    test_evaluation: Evaluation | None = None
    seconds: float | None = None  # how long training took
    kept_photos: int = 0  # training photos whose places it keeps (neighbours.py); 0: none (older models)
    created: str = ""  # ISO 8601, UTC
    versions: dict[str, str] = field(default_factory=dict)  # libraries it was made with
    format_version: int = FORMAT_VERSION

    @property
    def mode(self) -> str:
        return self.settings.get("mode", "")

    @property
    def thresholds(self) -> Thresholds:
        """The verdicts' default thresholds (models/verdict.py)."""
        m = self.metrics
        not_sure = m.not_sure_below if m and m.not_sure_below is not None else UNCALIBRATED_NOT_SURE
        return Thresholds(not_sure, m.unknown_below if m else None)

    @property
    def expected_accuracy(self) -> Estimate | None:
        return self.metrics.expected_accuracy if self.metrics else None

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("evaluation", "test_evaluation"):
            data[key] = getattr(self, key).to_dict() if getattr(self, key) else None
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> ModelMetadata:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            older = isinstance(version, int) and version < FORMAT_VERSION
            code = "metadata.older_version" if older else "metadata.other_version"
            raise CatbreedError(code, version=str(version), reads=FORMAT_VERSION)
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        metrics = values.get("metrics")
        if metrics:
            values["metrics"] = Metrics(
                expected_accuracy=Estimate(
                    **{
                        **metrics["expected_accuracy"],
                        "method": Message.from_json(metrics["expected_accuracy"]["method"]),
                    }
                ),
                calibration=Calibration(**metrics["calibration"]),
                test_accuracy=metrics.get("test_accuracy"),
                not_sure_below=metrics.get("not_sure_below"),
                coverage=[tuple(point) for point in metrics.get("coverage", [])],
                unknown_below=metrics.get("unknown_below"),
                unknown_curve=[tuple(point) for point in metrics.get("unknown_curve", [])],
                verdicts=VerdictSummary(**metrics["verdicts"]) if metrics.get("verdicts") else None,
                learning_curve=[CurvePoint(**point) for point in metrics.get("learning_curve", [])],
            )
        if values.get("data"):
            source = values["data"].get("source")
            warnings = [Message.from_json(w) for w in values["data"].get("warnings", [])]  # older models: text
            values["data"] = DataSummary(
                **{**values["data"], "warnings": warnings, "source": DataSource(**source) if source else None}
            )
        if values.get("split"):
            values["split"] = SplitSummary(**values["split"])
        for key in ("evaluation", "test_evaluation"):
            if values.get(key):
                values[key] = Evaluation.from_dict(values[key])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> ModelMetadata:
        """Raises CatbreedError for another format and ValueError, KeyError or TypeError for a damaged file."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("metadata is not a JSON object")
        return cls.from_dict(data)

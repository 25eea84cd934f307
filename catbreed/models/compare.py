"""Saved models side by side: which is best, by how much, on which breeds and which photos.

Every figure comes from the models' metadata (their out-of-fold evaluations), so comparing needs
no network and no photos. Two models trained on the same photos (the same data fingerprint) can
also be compared photo by photo: the ones each got right and the other got wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from catbreed.models.metadata import ModelMetadata
from catbreed.models.store import SavedModel


@dataclass(frozen=True)
class ModelRow:
    name: str
    breeds: int
    photos: int
    mode: str
    backbone: str
    expected: float | None  # expected accuracy on new photos and its 95% interval
    low: float | None
    high: float | None
    seconds: float | None  # how long training took
    created: str
    recall: dict[str, float]  # out-of-fold recall per breed


def model_rows(models: list[SavedModel]) -> list[ModelRow]:
    """One row per saved model, in the order given."""
    rows = []
    for model in models:
        meta, expected = model.metadata, model.expected_accuracy
        rows.append(
            ModelRow(
                name=model.name,
                breeds=len(meta.classes),
                photos=sum(meta.data.counts.values()) if meta.data else 0,
                mode=meta.mode,
                backbone=meta.backbone,
                expected=expected.value if expected else None,
                low=expected.low if expected else None,
                high=expected.high if expected else None,
                seconds=meta.seconds,
                created=meta.created,
                recall=recall_by_breed(meta),
            )
        )
    return rows


RATE_COLUMNS = ("expected accuracy", "from", "to")  # fractions, shown as percentages
RECALL_PREFIX = "recall "


def comparison_frame(rows: list[ModelRow]) -> pd.DataFrame:
    """The rows as a table, one column per measure and one "recall <breed>" column per breed any
    model knows (empty where a model does not know it)."""
    breeds = sorted({breed for row in rows for breed in row.recall})
    records = [
        {
            "name": r.name,
            "breeds": r.breeds,
            "photos": r.photos,
            "mode": r.mode,
            "backbone": r.backbone,
            "expected accuracy": r.expected,
            "from": r.low,
            "to": r.high,
            "training s": r.seconds,
            "created": r.created[:16].replace("T", " "),
        }
        | {RECALL_PREFIX + breed: r.recall.get(breed) for breed in breeds}
        for r in rows
    ]
    return pd.DataFrame(records)


def recall_by_breed(metadata: ModelMetadata) -> dict[str, float]:
    """Out-of-fold recall per breed: of its photos, the fraction the model named right."""
    if metadata.evaluation is None:
        return {}
    return {breed: scores["recall"] for breed, scores in metadata.evaluation.per_class.items() if scores["support"] > 0}


@dataclass(frozen=True)
class BreedDifference:
    breed: str
    first: float | None  # recall of the first model; None: it does not know this breed
    second: float | None

    @property
    def change(self) -> float | None:
        """second - first, where both know the breed."""
        return None if self.first is None or self.second is None else self.second - self.first


def breed_differences(first: ModelMetadata, second: ModelMetadata) -> list[BreedDifference]:
    """Every breed either model knows, largest change first, breeds only one knows last."""
    a, b = recall_by_breed(first), recall_by_breed(second)
    rows = [BreedDifference(breed, a.get(breed), b.get(breed)) for breed in sorted(set(a) | set(b))]
    return sorted(rows, key=lambda r: (r.change is None, -abs(r.change or 0)))


@dataclass(frozen=True)
class PhotoDisagreements:
    only_first_right: list[str]  # photos (names in the data set) the first got right, the second wrong
    only_second_right: list[str]


def photo_disagreements(first: ModelMetadata, second: ModelMetadata) -> PhotoDisagreements | None:
    """The photos exactly one of the two got right, or None when they were not trained on the same photos."""
    same_photos = (
        first.data and second.data and first.data.fingerprint and first.data.fingerprint == second.data.fingerprint
    )
    if not same_photos or first.evaluation is None or second.evaluation is None:
        return None
    wrong_first = {m.path for m in first.evaluation.misclassified}
    wrong_second = {m.path for m in second.evaluation.misclassified}
    return PhotoDisagreements(sorted(wrong_second - wrong_first), sorted(wrong_first - wrong_second))

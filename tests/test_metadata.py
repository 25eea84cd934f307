"""ModelMetadata: what metadata.json holds, read back field by field, and refused when foreign."""

import json

import pytest

from catbreed.errors import CatbreedError
from catbreed.messages import message
from catbreed.models.evaluation import evaluate
from catbreed.models.metadata import (
    FORMAT_VERSION,
    Calibration,
    DataSummary,
    Estimate,
    Metrics,
    ModelMetadata,
    SplitSummary,
)


def example() -> ModelMetadata:
    import numpy as np

    evaluation = evaluate(np.eye(2)[[0, 1, 1]], [0, 1, 0], ["Bengal", "Birman"], ["a.jpg", "b.jpg", "c.jpg"])
    return ModelMetadata(
        backbone="efficientnet_lite0",
        classes=["Bengal", "Birman"],
        image_size=224,
        preprocessing="RGB",
        data=DataSummary(
            {"Bengal": 2, "Birman": 1},
            skipped=1,
            duplicates=0,
            warnings=[
                message("dataset.few_photos", minimum=20, breeds=[message("dataset.breed_count", breed="Birman", n=1)])
            ],
        ),
        split=SplitSummary(train=3, test=0, folds=2, test_percent=0),
        settings={"mode": "quick", "seed": 0},
        metrics=Metrics(
            Estimate(0.67, 0.2, 1.0, message("estimate.method", folds=2, n=3, batch=3)), Calibration(1.0, 0.1, 0.05)
        ),
        evaluation=evaluation,
        created="2026-11-30T12:00:00+00:00",
    )


def test_a_round_trip_through_json_gives_the_same_record():
    metadata = example()
    again = ModelMetadata.from_json(metadata.to_json())
    assert again == metadata
    assert again.evaluation.misclassified[0].path == "c.jpg" and again.mode == "quick"
    assert again.expected_accuracy.describe() == "67.0% (20.0%-100.0%)"
    assert again.expected_accuracy.describe("pt_BR") == "67,0% (20,0%-100,0%)"


def test_the_json_is_plain_and_names_its_format():
    data = json.loads(example().to_json())
    assert data["format_version"] == FORMAT_VERSION
    assert data["metrics"]["expected_accuracy"] == {
        "value": 0.67,
        "low": 0.2,
        "high": 1.0,
        "method": {"code": "estimate.method", "params": {"folds": 2, "n": 3, "batch": 3}},  # no language
    }
    assert data["evaluation"]["confusion"] == {"labels": ["Bengal", "Birman"], "matrix": [[1, 1], [0, 1]]}


@pytest.mark.parametrize(
    ("version", "words"), [(1, "an older version"), (3, "another version"), (None, "another version")]
)
def test_other_formats_are_refused_with_what_to_do(version, words):
    data = json.loads(example().to_json())
    data["format_version"] = version
    with pytest.raises(CatbreedError, match=f"made by {words} of catbreed .*train it again"):
        ModelMetadata.from_json(json.dumps(data))


def test_fields_a_newer_minor_release_adds_are_ignored_and_missing_ones_fail():
    data = json.loads(example().to_json())
    assert ModelMetadata.from_json(json.dumps({**data, "colour": "tabby"})) == example()
    del data["classes"]
    with pytest.raises(TypeError):
        ModelMetadata.from_json(json.dumps(data))


def test_a_model_without_training_records_has_no_estimate():
    bare = ModelMetadata("efficientnet_lite0", ["tabby"], 224, "RGB")
    assert bare.expected_accuracy is None and bare.mode == ""
    assert ModelMetadata.from_json(bare.to_json()) == bare

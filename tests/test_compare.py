"""Comparing saved models: rows for the table, per-breed changes, and photo-by-photo disagreements."""

from dataclasses import replace

from test_metadata import example

from catbreed.models.compare import (
    breed_differences,
    comparison_frame,
    model_rows,
    photo_disagreements,
    recall_by_breed,
)
from catbreed.models.evaluation import Answer
from catbreed.models.store import ModelStore


def test_a_row_per_saved_model_with_its_estimate(trained, tmp_path):
    store = ModelStore(tmp_path)
    store.save(trained.bundle, "a")
    (row,) = model_rows(store.list())
    assert row.name == "a" and row.breeds == 3 and row.photos == 36 and row.mode == "quick"
    assert (row.expected, row.low, row.high) == (trained.estimate.value, trained.estimate.low, trained.estimate.high)
    assert row.seconds is not None and row.created
    assert row.recall == recall_by_breed(trained.bundle.metadata) and set(row.recall) == set(trained.bundle.classes)


def test_the_comparison_table_has_a_recall_column_per_breed_blank_where_a_model_lacks_it(trained, tmp_path):
    from dataclasses import replace

    store = ModelStore(tmp_path)
    store.save(trained.bundle, "all three")
    evaluation = trained.bundle.metadata.evaluation
    fewer = replace(evaluation, per_class={k: v for k, v in evaluation.per_class.items() if k != "red_circles"})
    store.save(replace(trained.bundle, metadata=replace(trained.bundle.metadata, evaluation=fewer)), "two")
    table = comparison_frame(model_rows(store.list())).set_index("name")
    assert [c for c in table if c.startswith("recall ")] == [f"recall {c}" for c in trained.bundle.classes]
    assert table.loc["all three", "recall red_circles"] == recall_by_breed(trained.bundle.metadata)["red_circles"]
    assert table["recall red_circles"].isna()["two"]


def test_breed_differences_show_the_largest_change_first_and_breeds_only_one_knows_last():
    first = example()  # Bengal recall 0.5, Birman 1.0
    evaluation = replace(
        first.evaluation,
        per_class={
            "Bengal": {**first.evaluation.per_class["Bengal"], "recall": 1.0},
            "Birman": first.evaluation.per_class["Birman"],
            "Sphynx": {"precision": 1.0, "recall": 0.75, "f1": 0.9, "support": 4},
        },
    )
    second = replace(first, evaluation=evaluation)
    assert recall_by_breed(first) == {"Bengal": 0.5, "Birman": 1.0}
    rows = breed_differences(first, second)
    assert [r.breed for r in rows] == ["Bengal", "Birman", "Sphynx"]
    assert rows[0].change == 0.5 and rows[1].change == 0.0 and rows[2].first is None and rows[2].change is None


def test_photo_disagreements_need_the_same_photos():
    first = replace(example(), data=replace(example().data, fingerprint="abc"))
    wrong_elsewhere = replace(first.evaluation, misclassified=[Answer("a.jpg", "Bengal", "Birman", 0.6)])
    second = replace(first, evaluation=wrong_elsewhere)
    disagreements = photo_disagreements(first, second)
    assert disagreements.only_first_right == ["a.jpg"] and disagreements.only_second_right == ["c.jpg"]
    other_photos = replace(second, data=replace(second.data, fingerprint="xyz"))
    assert photo_disagreements(first, other_photos) is None

import json

import numpy as np
import pytest
from conftest import drawn_photo, jpeg_bytes

from catbreed.errors import CatbreedError
from catbreed.models.bundle import HEAD_FILE, LABELS_FILE, METADATA_FILE, ModelBundle
from catbreed.models.metadata import FORMAT_VERSION
from catbreed.models.predict import Predictor
from catbreed.models.store import ModelStore

PHOTO = np.asarray(drawn_photo("green_bars", 99).resize((32, 32)), dtype=np.float32)[None]  # the stand-in's size


def test_save_and_load_give_the_same_predictions(trained, tmp_path, extractor):
    path = trained.bundle.save(tmp_path / "models" / "shapes")
    loaded = ModelBundle.load(path)
    assert loaded.classes == trained.bundle.classes
    assert (path / LABELS_FILE).read_text().splitlines() == trained.bundle.classes
    meta = loaded.metadata
    assert meta.versions["tensorflow"] and meta.image_size == 32 and meta.format_version == FORMAT_VERSION
    assert meta.created and meta.metrics == trained.bundle.metadata.metrics and meta.data.counts["green_bars"] == 12
    assert meta.evaluation == trained.evaluation and meta.split == trained.bundle.metadata.split
    photo = jpeg_bytes(drawn_photo("green_bars", 99))
    before = Predictor(trained.bundle, extractor).predict(photo)
    after = Predictor(loaded, extractor).predict(photo)
    assert [label for label, _ in after.top] == [label for label, _ in before.top]
    np.testing.assert_allclose([p for _, p in after.top], [p for _, p in before.top], atol=1e-6)


def test_a_failed_save_leaves_the_old_bundle_whole(trained, tmp_path, monkeypatch):
    path = trained.bundle.save(tmp_path / "keep")
    before = (path / HEAD_FILE).read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(trained.bundle.head, "save", broken_save)
    with pytest.raises(OSError):
        trained.bundle.save(path)
    assert (path / HEAD_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # no staging folder left behind


@pytest.mark.parametrize(
    "content", [None, "not json", '{"classes": ["a"]}', '{"format_version": 2, "classes": ["a"], "backbone": "x"}']
)
def test_loading_something_that_is_not_a_model_says_so(tmp_path, content):
    folder = tmp_path / "fake"
    folder.mkdir()
    if content is not None:
        (folder / METADATA_FILE).write_text(content)
        (folder / HEAD_FILE).write_bytes(b"not an npz file")
    with pytest.raises(CatbreedError, match="not a catbreed model folder|could not be read|version of catbreed"):
        ModelBundle.load(folder)


@pytest.mark.parametrize(("version", "word"), [(1, "an older"), (99, "another")])
def test_bundles_of_other_format_versions_are_refused_with_a_reason(trained, tmp_path, version, word):
    path = trained.bundle.save(tmp_path / "m")
    meta = json.loads((path / METADATA_FILE).read_text())
    (path / METADATA_FILE).write_text(json.dumps({**meta, "format_version": version}))
    with pytest.raises(CatbreedError, match=f"made by {word} version of catbreed .*train it again"):
        ModelBundle.load(path)
    assert ModelStore(tmp_path).list() == []  # nor is it listed as a model this catbreed can use


def test_labels_that_disagree_with_the_metadata_are_refused(trained, tmp_path):
    path = trained.bundle.save(tmp_path / "m")
    (path / LABELS_FILE).write_text("".join(f"{c}\n" for c in reversed(trained.bundle.classes)))
    with pytest.raises(CatbreedError, match="do not match its metadata"):
        ModelBundle.load(path)


def test_unknown_export_formats_are_refused(trained, tmp_path):
    with pytest.raises(CatbreedError, match="expected one of: tflite, saved_model"):
        trained.bundle.export("onnx", tmp_path / "x")

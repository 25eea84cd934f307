import json

import numpy as np
import pytest
from conftest import drawn_photo

from catbreed.bundle import LABELS_FILE, METADATA_FILE, ModelBundle
from catbreed.errors import CatbreedError

PHOTO = np.asarray(drawn_photo("green_bars", 99).resize((224, 224)), dtype=np.float32)[None]


def test_save_and_load_give_the_same_predictions(trained, tmp_path):
    path = trained.bundle.save(tmp_path / "models" / "shapes")
    loaded = ModelBundle.load(path)
    assert loaded.classes == trained.bundle.classes
    assert (path / LABELS_FILE).read_text().splitlines() == trained.bundle.classes
    meta = json.loads((path / METADATA_FILE).read_text())
    for key in (
        "backbone",
        "image_size",
        "preprocessing",
        "classes",
        "data",
        "split",
        "settings",
        "metrics",
        "created",
        "versions",
    ):
        assert key in meta, key
    assert meta["versions"]["tensorflow"] and meta["image_size"] == 224
    expected = trained.bundle.model.predict_on_batch(PHOTO)
    got = loaded.model.predict_on_batch(PHOTO)
    for output in ("breeds", "imagenet"):
        np.testing.assert_allclose(got[output], expected[output], atol=1e-6)


def test_a_failed_save_leaves_the_old_bundle_whole(trained, tmp_path, monkeypatch):
    path = trained.bundle.save(tmp_path / "keep")
    before = (path / "model.keras").read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(trained.bundle.model, "save", broken_save)
    with pytest.raises(OSError):
        trained.bundle.save(path)
    assert (path / "model.keras").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # no staging folder left behind


@pytest.mark.parametrize("content", [None, "not json", '{"classes": ["a"]}'])
def test_loading_something_that_is_not_a_model_says_so(tmp_path, content):
    folder = tmp_path / "fake"
    folder.mkdir()
    if content is not None:
        (folder / METADATA_FILE).write_text(content)
        (folder / "model.keras").write_bytes(b"not a keras file")
    with pytest.raises(CatbreedError, match="not a catbreed model folder|could not be read"):
        ModelBundle.load(folder)


@pytest.mark.parametrize("quantize", [False, True])
def test_tflite_export_agrees_with_keras(trained, tmp_path, quantize):
    import tensorflow as tf

    out = trained.bundle.export("tflite", tmp_path / "m.tflite", quantize=quantize)
    interpreter = tf.lite.Interpreter(model_path=str(out))
    runner = interpreter.get_signature_runner()
    outputs = runner(**{runner.get_input_details().popitem()[0]: PHOTO})
    breeds = next(v for v in outputs.values() if v.shape[-1] == 3)
    expected = trained.bundle.model.predict_on_batch(PHOTO)["breeds"]
    assert breeds.argmax() == expected.argmax()
    np.testing.assert_allclose(breeds, expected, atol=0.05 if quantize else 1e-4)


def test_quantized_tflite_is_smaller(trained, tmp_path):
    plain = trained.bundle.export("tflite", tmp_path / "f.tflite")
    small = trained.bundle.export("tflite", tmp_path / "q.tflite", quantize=True)
    assert small.stat().st_size < plain.stat().st_size / 2


def test_saved_model_export(trained, tmp_path):
    import tensorflow as tf

    out = trained.bundle.export("saved_model", tmp_path / "sm")
    restored = tf.saved_model.load(str(out))
    result = restored.serve(tf.constant(PHOTO))
    assert int(np.argmax(result["breeds"])) == int(trained.bundle.model.predict_on_batch(PHOTO)["breeds"].argmax())


def test_unknown_export_formats_are_refused(trained, tmp_path):
    with pytest.raises(CatbreedError, match="expected one of: tflite, saved_model"):
        trained.bundle.export("onnx", tmp_path / "x")

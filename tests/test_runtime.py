import numpy as np
import pytest
from conftest import drawn_photo

from catbreed.data.images import load_for_model
from catbreed.nets import runtime
from catbreed.nets.backbones import create_backbone, get_spec, list_backbones
from catbreed.nets.classifier import feature_extractor

OFFLINE_BACKBONES = [name for name in list_backbones() if name != "efficientnet_b0"]  # b0 downloads its weights


def photos(size: int, cats) -> np.ndarray:
    """float32 (4, size, size, 3): real cats and a drawn photo, as the model sees them."""
    sources = [*cats, drawn_photo("red_circles", 1)]
    return np.stack([load_for_model(s, size) for s in sources]).astype(np.float32)


@pytest.mark.parametrize("name", OFFLINE_BACKBONES)
def test_litert_answers_as_keras_does(name, oxford_cats, tmp_path, backbone):
    cats = [oxford_cats / "Siamese" / "Siamese_100.jpg", *sorted((oxford_cats / "Bengal").iterdir())[:2]]
    model = backbone if name == "efficientnet_lite0" else create_backbone(name)
    extractor = runtime.load_extractor(name, home=tmp_path)
    pixels = photos(get_spec(name).image_size, cats)
    got, expected = extractor.predict_on_batch(pixels), feature_extractor(model).predict_on_batch(pixels)
    for ours, theirs in zip(got, expected):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_the_flatbuffer_is_converted_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    first = runtime.load_extractor("efficientnet_lite0", home=tmp_path)
    assert list((tmp_path / "runtime").glob("*.tflite")) == [runtime.flatbuffer_path("efficientnet_lite0", tmp_path)]

    def no_conversion(backbone, path):
        raise AssertionError("converted again")

    monkeypatch.setattr(runtime, "convert_in_child", no_conversion)
    again = runtime.load_extractor("efficientnet_lite0", home=tmp_path)
    pixels = np.full((2, 224, 224, 3), 100, np.float32)
    np.testing.assert_array_equal(again.predict_on_batch(pixels)[0], first.predict_on_batch(pixels)[0])


def test_the_cache_name_follows_the_weights_and_the_runtime(tmp_path, monkeypatch):
    lite0 = runtime.flatbuffer_path("efficientnet_lite0", tmp_path)
    assert get_spec("efficientnet_lite0").weights_id in lite0.name
    assert lite0 != runtime.flatbuffer_path("efficientnet_lite1", tmp_path)
    monkeypatch.setattr(runtime, "EXTRACTOR_VERSION", runtime.EXTRACTOR_VERSION + 1)
    assert runtime.flatbuffer_path("efficientnet_lite0", tmp_path) != lite0


def test_one_photo_and_a_batch_give_the_same_answers(extractor):
    pixels = np.random.default_rng(0).uniform(0, 255, (3, 224, 224, 3)).astype(np.float32)
    batch = extractor.predict_on_batch(pixels)[0]
    single = np.concatenate([extractor.predict_on_batch(pixels[i : i + 1])[0] for i in range(3)])
    np.testing.assert_allclose(single, batch, atol=1e-5)


def test_a_conversion_that_fails_in_its_process_says_why_in_the_librarys_own_words(tmp_path):
    from catbreed.errors import CatbreedError

    with pytest.raises(CatbreedError, match="Unknown backbone 'no_such_backbone'"):
        runtime.convert_in_child("no_such_backbone", tmp_path / "x.tflite")
    assert not (tmp_path / "x.tflite").exists()

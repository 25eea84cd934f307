import numpy as np
import pytest
from conftest import drawn_photo

from catbreed.data.images import load_for_model
from catbreed.nets import runtime
from catbreed.nets.backbones import (
    DEFAULT_BACKBONE,
    ENSEMBLE_BACKBONE,
    STANDIN_BACKBONE,
    create_backbone,
    get_spec,
    list_backbones,
)
from catbreed.nets.keras_features import feature_extractor

OFFLINE_BACKBONES = [name for name in list_backbones() if name != "efficientnet_b0"]  # b0 downloads its weights


def photos(size: int, cats=()) -> np.ndarray:
    """float32 (N, size, size, 3): real cats and drawn photos, as the model sees them."""
    sources = [*cats, drawn_photo("red_circles", 1), drawn_photo("blue_squares", 2)]
    return np.stack([load_for_model(s, size) for s in sources]).astype(np.float32)


def answers_as_keras_does(name: str, pixels: np.ndarray, home, model=None) -> None:
    spec = get_spec(name)
    extractor = runtime.load_extractor(name, home=home)
    keras_extractor = feature_extractor(model or create_backbone(name), spec.layers)
    for ours, theirs in zip(extractor.predict_on_batch(pixels), keras_extractor.predict_on_batch(pixels)):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, atol=1e-4)


@pytest.mark.parametrize("name", OFFLINE_BACKBONES)
def test_litert_answers_as_keras_does_on_real_cats(name, oxford_cats, tmp_path, lite0_backbone):
    cats = [oxford_cats / "Siamese" / "Siamese_100.jpg", *sorted((oxford_cats / "Bengal").iterdir())[:2]]
    model = lite0_backbone if name == "efficientnet_lite0" else None
    answers_as_keras_does(name, photos(get_spec(name).image_size, cats), tmp_path, model)


def test_litert_answers_as_keras_does_for_the_standin(backbone, catbreed_home, extractor):
    answers_as_keras_does(STANDIN_BACKBONE, photos(32), catbreed_home, backbone)


def test_the_flatbuffer_is_converted_once_and_then_read_from_the_cache(catbreed_home, extractor, monkeypatch):
    # The session's `extractor` wrote the stand-in into this home.
    assert runtime.flatbuffer_path(STANDIN_BACKBONE, catbreed_home) in (catbreed_home / "runtime").glob("*.tflite")

    def no_conversion(backbone, path):
        raise AssertionError("converted again")

    monkeypatch.setattr(runtime, "convert_in_child", no_conversion)
    again = runtime.load_extractor(STANDIN_BACKBONE, home=catbreed_home)
    pixels = np.full((2, 32, 32, 3), 100, np.float32)
    np.testing.assert_array_equal(again.predict_on_batch(pixels)[0], extractor.predict_on_batch(pixels)[0])


@pytest.mark.slow  # the real networks
def test_the_efficientnet_lites_are_written_from_their_weights_without_the_converter(tmp_path, monkeypatch):
    def no_conversion(backbone, path):
        raise AssertionError("went through TensorFlow's converter")

    monkeypatch.setattr(runtime, "convert_in_child", no_conversion)
    for name in (DEFAULT_BACKBONE, ENSEMBLE_BACKBONE):
        extractor = runtime.load_extractor(name, home=tmp_path)
        assert runtime.flatbuffer_path(name, tmp_path).is_file()
        side = get_spec(name).image_size
        features, imagenet = extractor.predict_on_batch(np.full((2, side, side, 3), 120, np.float32))
        assert features.shape == (2, sum(get_spec(name).feature_blocks)) and imagenet.shape == (2, 1000)
        np.testing.assert_allclose(imagenet.sum(axis=1), 1, atol=1e-4)


def test_the_cache_name_follows_the_weights_and_the_runtime(tmp_path, monkeypatch):
    lite0 = runtime.flatbuffer_path("efficientnet_lite0", tmp_path)
    assert get_spec("efficientnet_lite0").weights_id in lite0.name
    assert lite0 != runtime.flatbuffer_path("efficientnet_lite1", tmp_path)
    monkeypatch.setattr(runtime, "EXTRACTOR_VERSION", runtime.EXTRACTOR_VERSION + 1)
    assert runtime.flatbuffer_path("efficientnet_lite0", tmp_path) != lite0


def test_one_photo_and_a_batch_give_the_same_answers(extractor):
    pixels = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype(np.float32)
    batch = extractor.predict_on_batch(pixels)[0]
    single = np.concatenate([extractor.predict_on_batch(pixels[i : i + 1])[0] for i in range(3)])
    np.testing.assert_allclose(single, batch, atol=1e-5)


@pytest.mark.slow  # TensorFlow's converter, in a process of its own: seconds
def test_a_row_without_its_own_graph_is_converted_by_tensorflow_and_answers_alike(tmp_path, extractor):
    """No offline row needs the converter any more (the stand-in writes itself too); online rows do."""
    converted = tmp_path / "standin-converted.tflite"
    runtime.convert_in_child(STANDIN_BACKBONE, converted)
    pixels = np.random.default_rng(3).uniform(0, 255, (4, 32, 32, 3)).astype(np.float32)
    for ours, theirs in zip(
        extractor.predict_on_batch(pixels), runtime.LiteRTExtractor(converted).predict_on_batch(pixels)
    ):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


@pytest.mark.slow  # starts a Python process of its own
def test_a_conversion_that_fails_in_its_process_says_why_in_the_librarys_own_words(tmp_path):
    from catbreed.errors import CatbreedError

    with pytest.raises(CatbreedError, match="Unknown backbone 'no_such_backbone'"):
        runtime.convert_in_child("no_such_backbone", tmp_path / "x.tflite")
    assert not (tmp_path / "x.tflite").exists()

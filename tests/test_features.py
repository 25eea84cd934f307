import numpy as np
from conftest import make_dataset_folder

from catbreed.data.dataset import check_folder
from catbreed.data.images import load_for_model
from catbreed.learn.features import ORIGINAL, VIEWS, FeatureCache, extract_features
from catbreed.nets import standin
from catbreed.nets.backbones import STANDIN_BACKBONE, get_spec
from catbreed.nets.keras_features import feature_extractor

LAYERS = get_spec(STANDIN_BACKBONE).layers


class CountingExtractor:
    """Wraps the real feature model and counts the views (photo or mirror image) it is shown."""

    def __init__(self, model):
        self.model, self.seen = model, 0
        self.input_shape = model.input_shape

    def predict_on_batch(self, x):
        self.seen += len(x)
        return self.model.predict_on_batch(x)


def test_features_are_computed_once_per_photo_content(tmp_path, backbone):
    extractor = CountingExtractor(feature_extractor(backbone, LAYERS))
    cache = FeatureCache(tmp_path / "home", STANDIN_BACKBONE)
    root = make_dataset_folder(tmp_path / "data", per_class=3, kinds=("red_circles", "blue_squares"))
    first = extract_features(check_folder(root).photos, extractor, cache)
    assert first.shape == (6, len(VIEWS), standin.FEATURES) and extractor.seen == 6 * len(VIEWS)

    (root / "red_circles" / "000.jpg").rename(root / "red_circles" / "renamed.jpg")
    make_dataset_folder(root, per_class=5, kinds=("blue_squares",))  # 2 new photos, 3 rewritten as they were
    grown = check_folder(root)
    again = extract_features(grown.photos, extractor, cache)
    assert extractor.seen == (6 + 2) * len(VIEWS)
    assert again.shape == (8, len(VIEWS), standin.FEATURES)


def test_only_the_views_asked_for_are_computed_and_the_rest_later(tmp_path, backbone):
    extractor = CountingExtractor(feature_extractor(backbone, LAYERS))
    cache = FeatureCache(tmp_path, STANDIN_BACKBONE)
    photos = check_folder(
        make_dataset_folder(tmp_path / "data", per_class=2, kinds=("red_circles", "blue_squares"))
    ).photos
    alone = extract_features(photos, extractor, cache, views=(ORIGINAL,))
    assert alone.shape == (4, 1, standin.FEATURES) and extractor.seen == 4
    both = extract_features(photos, extractor, cache)
    assert extractor.seen == 4 + 4  # only the mirror images were new
    np.testing.assert_array_equal(both[:, 0], alone[:, 0])


def test_views_are_the_photo_and_its_mirror_image(tmp_path, backbone):
    root = make_dataset_folder(tmp_path / "data", per_class=2, kinds=("red_circles", "blue_squares"))
    features = extract_features(
        check_folder(root).photos, feature_extractor(backbone, LAYERS), FeatureCache(tmp_path, STANDIN_BACKBONE)
    )
    original, mirrored = features[:, 0], features[:, 1]
    assert not np.allclose(original, mirrored)
    # The second view is the network's answer on the photo flipped left to right, nothing else.
    pixels = np.stack([load_for_model(photo.path, standin.IMAGE_SIZE) for photo in check_folder(root).photos])
    flipped = feature_extractor(backbone, LAYERS).predict_on_batch(pixels[:, :, ::-1].astype(np.float32))[0]
    np.testing.assert_allclose(mirrored, flipped, atol=1e-2)  # the cache keeps float16


def test_a_damaged_cache_entry_is_recomputed(tmp_path, backbone):
    cache = FeatureCache(tmp_path, STANDIN_BACKBONE)
    root = make_dataset_folder(tmp_path / "data", per_class=2, kinds=("red_circles", "blue_squares"))
    photos = check_folder(root).photos
    extract_features(photos, feature_extractor(backbone, LAYERS), cache)
    entry = next(cache.folder.rglob("*.npy"))
    entry.write_bytes(entry.read_bytes()[:50])
    extractor = CountingExtractor(feature_extractor(backbone, LAYERS))
    extract_features(photos, extractor, cache)
    assert extractor.seen == 1  # that one view of that one photo


def test_a_fresh_run_and_a_cached_run_give_the_same_numbers(tmp_path, backbone):
    root = make_dataset_folder(tmp_path / "data", per_class=2, kinds=("red_circles", "blue_squares"))
    photos = check_folder(root).photos
    cache = FeatureCache(tmp_path, STANDIN_BACKBONE)
    fresh = extract_features(photos, feature_extractor(backbone, LAYERS), cache)
    cached = extract_features(photos, feature_extractor(backbone, LAYERS), cache)
    np.testing.assert_array_equal(fresh, cached)

import io
import os

import numpy as np
import pytest
from conftest import drawn_photo, jpeg_bytes
from PIL import Image

from catbreed.data.images import ImageProblem
from catbreed.models.predict import DOMESTIC_CAT_CLASSES, Predictor, builtin_bundle, cat_verdict, imagenet_labels


@pytest.fixture(scope="module")
def builtin(lite0_extractor):
    return Predictor(builtin_bundle(), lite0_extractor)


def test_imagenet_labels_ship_with_the_project():
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert [labels[i] for i in DOMESTIC_CAT_CLASSES] == [
        "tabby",
        "tiger cat",
        "Persian cat",
        "Siamese cat",
        "Egyptian cat",
    ]


def test_trained_model_names_the_breed_from_path_bytes_or_pil(trained, tmp_path, extractor):
    predictor = Predictor(trained.bundle, extractor)
    photo = drawn_photo("red_circles", 1234)
    path = tmp_path / "p.png"
    photo.save(path)
    for source in (path, jpeg_bytes(photo), photo):
        prediction = predictor.predict(source, top_k=2)
        assert prediction.top[0][0] == "red_circles"
        assert len(prediction.top) == 2 and prediction.top[0][1] >= prediction.top[1][1]
        assert prediction.seconds > 0


def test_drawn_shapes_are_not_cats(lite0_trained, lite0_extractor):
    prediction = Predictor(lite0_trained.bundle, lite0_extractor).predict(drawn_photo("blue_squares", 5))
    assert not prediction.is_cat and prediction.cat_probability < 0.1


def test_a_real_cat_is_a_cat_even_for_a_model_that_knows_only_shapes(lite0_trained, cat_photo, lite0_extractor):
    assert Predictor(lite0_trained.bundle, lite0_extractor).predict(cat_photo).is_cat


def test_the_builtin_model_names_imagenet_classes_cats_first(builtin, cat_photo):
    prediction = builtin.predict(cat_photo, top_k=6)
    assert prediction.top[0][0] == "Siamese cat" and prediction.is_cat and prediction.cat_probability > 0.5
    labels = [label for label, _ in prediction.top]
    assert labels[:5] == [label for label in labels if label in [imagenet_labels()[i] for i in DOMESTIC_CAT_CLASSES]]
    assert labels[5] not in [imagenet_labels()[i] for i in DOMESTIC_CAT_CLASSES]


def test_the_builtin_model_ranks_plainly_when_it_sees_no_cat(builtin):
    prediction = builtin.predict(drawn_photo("blue_squares", 3), top_k=5)
    probabilities = [p for _, p in prediction.top]
    assert not prediction.is_cat and probabilities == sorted(probabilities, reverse=True)


def test_cat_verdict_rules():
    probabilities = np.full(1000, 0.5 / 995)
    probabilities[list(DOMESTIC_CAT_CLASSES)] = 0.1  # 0.5 in all: a cat
    assert cat_verdict(probabilities) == (True, pytest.approx(0.5))
    dog = np.zeros(1000)
    dog[np.arange(150, 160)] = 0.098
    dog[281] = 0.02  # ranked 11th, 2%: not a cat
    assert cat_verdict(dog)[0] is False
    dog[281] = 0.099  # now the likeliest, though under 10%
    assert cat_verdict(dog)[0] is True


def test_unusable_photos_raise_image_problem(trained, extractor):
    predictor = Predictor(trained.bundle, extractor)
    with pytest.raises(ImageProblem):
        predictor.predict(b"not an image")
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "PNG")
    with pytest.raises(ImageProblem):
        predictor.predict(buffer.getvalue())


def test_breed_probabilities_of_many_photos(trained, extractor):
    photos = [drawn_photo(kind, 500 + i) for i in range(20) for kind in ("blue_squares", "green_bars", "red_circles")]
    probabilities = Predictor(trained.bundle, extractor).breed_probabilities(photos)
    assert probabilities.shape == (60, 3)
    assert (probabilities.argmax(1) == np.tile([0, 1, 2], 20)).mean() > 0.95


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def test_memory_stays_flat_over_repeated_classifications(trained, extractor):
    predictor = Predictor(trained.bundle, extractor)
    snapshot = jpeg_bytes(drawn_photo("red_circles", 42, size=(640, 480)))
    for _ in range(20):
        predictor.predict(snapshot)
    before = resident_mb()
    for _ in range(200):
        predictor.predict(snapshot)
    assert resident_mb() - before < 40


def test_a_photo_unlike_every_breed_learned_gets_no_breed(trained, extractor):
    from catbreed.models.verdict import BREED, NOT_A_CAT, UNKNOWN_BREED

    predictor = Predictor(trained.bundle, extractor)
    familiar = predictor.predict(jpeg_bytes(drawn_photo("blue_squares", 999)))
    stranger = predictor.predict(jpeg_bytes(Image.effect_noise((160, 120), 120).convert("RGB")))
    assert familiar.top[0][0] == "blue_squares" and familiar.verdict == BREED
    assert stranger.familiarity < trained.bundle.metadata.thresholds.unknown_below < familiar.familiarity
    assert stranger.verdict in (UNKNOWN_BREED, NOT_A_CAT)  # which: the stand-in's random ImageNet answer


def test_a_model_saved_and_loaded_judges_familiarity_as_before(trained, extractor, tmp_path):
    from catbreed.models.bundle import ModelBundle

    trained.bundle.save(tmp_path / "m")
    photo = jpeg_bytes(drawn_photo("green_bars", 5))
    before = Predictor(trained.bundle, extractor).predict(photo)
    after = Predictor(ModelBundle.load(tmp_path / "m"), extractor).predict(photo)
    assert after.familiarity == pytest.approx(before.familiarity, rel=1e-5) and after.verdict == before.verdict

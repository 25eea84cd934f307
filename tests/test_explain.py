import random

import numpy as np
import pytest
from conftest import drawn_photo, jpeg_bytes
from PIL import Image, ImageDraw

from catbreed.data.dataset import check_folder
from catbreed.explain import cnn_basics, gradcam, network
from catbreed.learn.settings import TrainSettings
from catbreed.learn.training import train
from catbreed.nets.backbones import DEFAULT_BACKBONE, STANDIN_BACKBONE, get_spec

# --- the building blocks, against sums worked out by hand ---------------------------------


STANDIN, LITE0 = get_spec(STANDIN_BACKBONE).layers, get_spec(DEFAULT_BACKBONE).layers


def test_convolution_matches_a_hand_computed_example():
    image = np.array([[1, 2, 3, 0], [4, 5, 6, 1], [7, 8, 9, 2]], dtype=np.float32)
    kernel = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)
    # top-left window: 2 + 4 + 6 + 8 - 4*5 = 0; next: 3 + 5 + 1 + 9 - 4*6 = -6
    np.testing.assert_array_equal(cnn_basics.convolve(image, kernel), [[0, -6]])


def test_one_window_written_out_is_the_convolution_value_there():
    image = np.arange(16, dtype=np.float32).reshape(4, 4) / 10
    kernel = cnn_basics.KERNELS["vertical edges"]
    step = cnn_basics.window_product(image, kernel, 1, 1)
    assert step.total == pytest.approx(cnn_basics.convolve(image, kernel)[1, 1])
    assert step.total == pytest.approx(0.8)  # each row grows by 0.2 from left to right: (1+2+1) * 0.2
    assert step.written_out().startswith("0.50×-1 + 0.60×0 + 0.70×1") and step.written_out().endswith("= 0.80")


def test_relu_and_max_pooling_by_hand():
    x = np.array([[-1, 2, 0, -3], [4, -5, 1, 1], [0, 0, -2, -2], [3, -1, -2, 7]], dtype=np.float32)
    np.testing.assert_array_equal(cnn_basics.relu(x)[0], [0, 2, 0, 0])
    np.testing.assert_array_equal(cnn_basics.max_pool(x), [[4, 1], [3, 7]])
    np.testing.assert_array_equal(cnn_basics.max_pool(x[:3, :3]), [[4]])  # ragged edges are dropped


def test_perceptron_fires_at_its_threshold():
    inputs, weights = np.array([1, 0, 1]), np.array([0.5, 0.9, 0.25])
    assert cnn_basics.perceptron(inputs, weights, 0.75) == cnn_basics.PerceptronOutput(0.75, True)
    assert cnn_basics.perceptron(inputs, weights, 0.8).fires is False


def test_a_blur_of_a_flat_image_is_the_same_flat_image():
    flat = np.full((8, 8), 0.4, dtype=np.float32)
    np.testing.assert_allclose(cnn_basics.convolve(flat, cnn_basics.KERNELS["blur"]), 0.4, rtol=1e-6)
    np.testing.assert_allclose(cnn_basics.convolve(flat, cnn_basics.KERNELS["edges"]), 0, atol=1e-6)


# --- the real network's filters and feature maps ------------------------------------------


def test_first_layer_filters_grid(backbone, lite0_backbone):
    grid = network.first_layer_filters(backbone, STANDIN.stem, cell=24, columns=4)
    assert grid.dtype == np.uint8 and grid.shape == (2 * 26 - 2, 4 * 26 - 2, 3)  # the stand-in's 8 kernels
    assert grid[:24, :24].std() > 0  # a kernel is not blank
    lite0 = network.first_layer_filters(lite0_backbone, LITE0.stem, cell=24, columns=8)
    assert lite0.shape == (4 * 26 - 2, 8 * 26 - 2, 3)  # Lite0's 32


@pytest.mark.parametrize(("depth", "side"), [("shallow", 16), ("middle", 8), ("deep", 8)])
def test_feature_maps_pick_the_most_active_channels(backbone, depth, side):
    maps = network.feature_maps(backbone, drawn_photo("red_circles", 3), getattr(STANDIN, depth), n=6)
    assert maps.maps.shape == (6, side, side) and len(maps.channels) == 6 and maps.shape[:2] == (side, side)
    assert maps.maps.min() >= 0 and maps.maps.max() <= 1
    strongest = maps.channels[0]
    assert maps.maps[0].max() == 1  # each map is scaled to its own range
    assert strongest not in maps.channels[1:]


def test_lite0s_layers_shrink_from_shallow_to_deep(lite0_backbone):
    sides = [
        network.feature_maps(lite0_backbone, drawn_photo("red_circles", 3), getattr(LITE0, d), n=2).shape[0]
        for d in ("shallow", "middle", "deep")
    ]
    assert sides == [112, 28, 7]


# --- Grad-CAM ------------------------------------------------------------------------------


def quadrant_photo(colour: str, seed: int) -> Image.Image:
    """The class is the colour of the disc in the top-left quadrant; the rest is neutral clutter."""
    rng = random.Random(seed)
    image = Image.new("RGB", (224, 224), (200, 200, 200))
    draw = ImageDraw.Draw(image)
    for _ in range(6):  # distractors outside the top-left quadrant, in neither class colour
        x, y = rng.choice([(rng.randint(120, 190), rng.randint(0, 190)), (rng.randint(0, 190), rng.randint(120, 190))])
        draw.rectangle((x, y, x + 30, y + 30), fill=rng.choice(["green", "yellow", "black", "white"]))
    x, y = rng.randint(5, 40), rng.randint(5, 40)
    draw.ellipse((x, y, x + 60, y + 60), fill=colour)
    return image


@pytest.fixture(scope="module")
def quadrant_model(tmp_path_factory, lite0_extractor):
    root = tmp_path_factory.mktemp("quadrants")
    for colour in ("red", "blue"):
        (root / colour).mkdir()
        for i in range(20):
            (root / colour / f"{i}.jpg").write_bytes(jpeg_bytes(quadrant_photo(colour, i)))
    result = train(check_folder(root), TrainSettings(), extractor=lite0_extractor)
    return result.bundle


def test_gradcam_looks_where_the_class_is_decided(quadrant_model, lite0_backbone):
    for seed, colour in ((100, "red"), (101, "blue")):
        photo = quadrant_photo(colour, seed)
        heatmap = gradcam.gradcam(quadrant_model, lite0_backbone, photo)
        assert heatmap.shape == (7, 7) and heatmap.max() == pytest.approx(1)
        inside = heatmap[:4, :4].sum() / heatmap.sum()  # the top-left quadrant, 16 of 49 cells
        assert inside > 0.5, (colour, inside)


def test_gradcam_works_on_the_builtin_model_and_overlays(lite0_backbone, cat_photo):
    from catbreed.models.predict import builtin_bundle

    heatmap = gradcam.gradcam(builtin_bundle(), lite0_backbone, cat_photo)
    assert heatmap.shape == (7, 7) and 0 <= heatmap.min() and heatmap.max() <= 1
    picture = gradcam.overlay(cat_photo, heatmap, size=200)
    assert picture.shape == (200, 200, 3) and picture.dtype == np.uint8


def test_colour_map_runs_dark_to_bright():
    colours = network.colourise(np.linspace(0, 1, 5)[None])[0].astype(int).sum(axis=1)
    assert list(colours) == sorted(colours)


def test_gradcam_of_a_trained_head_on_the_standin_is_a_map_of_its_grid(trained, backbone):
    heatmap = gradcam.gradcam(trained.bundle, backbone, drawn_photo("green_bars", 3))
    assert heatmap.shape == (8, 8) and heatmap.dtype == np.float32
    assert heatmap.min() >= 0 and heatmap.max() == pytest.approx(1)
    picture = gradcam.where_it_looked(trained.bundle, backbone, drawn_photo("green_bars", 3), "green_bars", size=64)
    assert picture.shape == (64, 64, 3) and picture.dtype == np.uint8


def test_gradcam_of_an_ensemble_looks_through_its_first_member(lite0_backbone, cat_photo):
    """With the other members' weights at zero, the ensemble's map is Lite0's own map."""
    from catbreed.models.bundle import ModelBundle
    from catbreed.models.head import LinearHead
    from catbreed.nets.backbones import create_backbone

    weights = np.random.default_rng(0).normal(size=(1280, 3)).astype(np.float32)

    def bundle(backbone_name: str, blocks: tuple[int, ...]) -> ModelBundle:
        head = LinearHead(blocks, 3)
        head.weights_ = np.zeros((sum(blocks), 3), np.float32)
        head.weights_[:1280] = weights
        head.bias_, head.n_photos_ = np.zeros(3, np.float32), 1
        return ModelBundle(backbone_name, ["a", "b", "c"], head)

    # Block normalisation scales each block by 1/sqrt(blocks): the ensemble's scores are Lite0's / sqrt(3).
    alone = gradcam.gradcam(bundle("efficientnet_lite0", (1280,)), lite0_backbone, cat_photo, class_index=0)
    ensemble = create_backbone("efficientnet_lite0_1_2")
    together = gradcam.gradcam(bundle("efficientnet_lite0_1_2", (1280,) * 3), ensemble, cat_photo, class_index=0)
    assert together.shape == alone.shape == (7, 7)
    assert np.corrcoef(together.ravel(), alone.ravel())[0, 1] > 0.9

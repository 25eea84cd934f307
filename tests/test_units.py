"""Click through the real network: one unit's numbers, step by step, equal the network's own value;
the head's numbers equal its probabilities; a channel's image excites it."""

import numpy as np
import pytest

from catbreed.explain import channels, units
from catbreed.nets.backbones import create_backbone


@pytest.fixture(scope="module")
def standin():
    return create_backbone("standin_tiny")


def photo(seed: int = 0) -> np.ndarray:
    from conftest import drawn_photo

    return drawn_photo("red_circles", seed, size=(96, 96))


def relu6(value: float, ceiling) -> float:
    return max(value, 0.0) if ceiling is None else min(max(value, 0.0), ceiling)


@pytest.mark.parametrize("position", [None, (0, 0), (3, 5)])
def test_a_units_numbers_are_the_same_patch_times_the_same_kernel_and_equal_the_networks_value(standin, position):
    found = units.chains(standin)
    assert [(c.activation, c.kind) for c in found] == [
        ("stem_activation", units.FULL),
        ("block1a_activation", units.FULL),
        ("top_activation", units.POINTWISE),
    ]
    for chain in found:
        y, x = position or (None, None)
        unit = units.trace(standin, photo(), chain, channel=2, y=y, x=x)
        direct = float(np.sum(unit.patch.astype(np.float64) * unit.kernel)) + unit.bias  # by hand
        assert unit.total == pytest.approx(direct, abs=1e-6)
        assert unit.activation == pytest.approx(relu6(direct * unit.scale + unit.shift, unit.ceiling), abs=1e-6)
        assert unit.activation == pytest.approx(unit.network, abs=1e-4)  # the network's own value
        if position is None:  # the strongest unit of the channel below ReLU6's ceiling, unless asked
            below = unit.feature_map[unit.feature_map < 6.0]
            assert unit.network == pytest.approx(float(below.max() if below.size else 6.0), abs=1e-6)


def test_the_strongest_channel_is_chosen_when_none_is_asked(standin):
    chain = units.chains(standin)[0]
    unit = units.trace(standin, photo(), chain)
    others = [units.trace(standin, photo(), chain, c).network for c in range(8)]
    assert unit.network == pytest.approx(max(others), abs=1e-6)


def test_the_heads_numbers_are_its_probabilities(trained):
    features = np.random.default_rng(0).normal(size=sum(trained.bundle.head.blocks)).astype(np.float32)
    step = units.head_step(trained.bundle.head, features)
    np.testing.assert_allclose(step.probabilities, trained.bundle.head.predict_proba(features[None])[0], atol=1e-6)
    top = int(np.argmax(step.probabilities))
    assert step.contributions.sum() + trained.bundle.head.bias_[top] == pytest.approx(step.scores[top], abs=1e-4)


def test_a_channels_image_excites_it_more_than_the_noise_it_started_from(standin):
    import keras

    layer, channel = "block1a_activation", 3
    probe = keras.Model(standin.input, standin.get_layer(layer).input)
    start = channels.channel_image(standin, layer, channel, steps=0)
    climbed = channels.channel_image(standin, layer, channel, steps=15)
    before, after = (
        float(np.asarray(probe(i[None].astype(np.float32)))[..., channel].mean()) for i in (start, climbed)
    )
    assert after > before


def test_channel_strengths_are_each_photos_mean_activation_of_every_channel(standin):
    import keras

    photos = [photo(s) for s in range(3)]
    strengths = channels.channel_strengths(standin, "top_activation", photos, batch=2)
    assert strengths.shape == (3, 64)
    probe = keras.Model(standin.input, standin.get_layer("top_activation").output)
    from catbreed.data.images import load_for_model

    first = np.asarray(probe(load_for_model(photos[0], 32)[None].astype(np.float32)))[0].mean(axis=(0, 1))
    np.testing.assert_allclose(strengths[0], first, rtol=1e-5, atol=1e-6)


def test_on_the_real_network_depthwise_and_pointwise_units_equal_the_networks_values(lite0_backbone, cat_photo):
    found = {c.kind: c for c in units.chains(lite0_backbone)}
    assert set(found) == {units.FULL, units.DEPTHWISE, units.POINTWISE}
    for chain in found.values():
        unit = units.trace(lite0_backbone, cat_photo, chain, channel=1, y=3, x=4)
        assert unit.chain.normalisation and unit.ceiling == 6.0
        direct = float(np.sum(unit.patch.astype(np.float64) * unit.kernel))
        assert unit.activation == pytest.approx(relu6(direct * unit.scale + unit.shift, 6.0), abs=1e-5)
        assert unit.activation == pytest.approx(unit.network, abs=1e-3)

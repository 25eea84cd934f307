"""A tiny CNN with random weights that keeps the backbone contract, so tests run in seconds.

It takes the same float32 (N, 32, 32, 3) pixels in 0..255 as the real backbones, names its layers
as `backbones.LayerNames` says, and ends in a 1000-class softmax. Its weights come from a fixed
NumPy seed, shared by its two faces: the Keras model (Grad-CAM, export) and the LiteRT graph it
writes itself into, as the EfficientNet-Lites do, so no test waits for TensorFlow's converter.
Its pooled features still tell colours and shapes apart, which is all the drawn test photos need;
its ImageNet answers mean nothing.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras

    from catbreed.nets.flatbuffer import Graph

IMAGE_SIZE = 32
FEATURES = 64
SEED = 7
# (layer, kernel side, channels out, stride): each a convolution with ReLU6, as LiteRT fuses it.
CONVOLUTIONS = (("stem", 3, 8, 2), ("block1a", 3, 16, 2), ("top", 1, FEATURES, 1))


@cache
def weights() -> dict[str, np.ndarray]:
    """He-normal kernels (HWIO, as Keras keeps them), a Glorot-uniform dense layer, zero biases."""
    rng = np.random.default_rng(SEED)
    found, channels = {}, 3
    for name, side, out, _ in CONVOLUTIONS:
        fan_in = side * side * channels
        found[f"{name}_conv"] = rng.normal(0, np.sqrt(2 / fan_in), (side, side, channels, out)).astype(np.float32)
        found[f"{name}_bias"] = np.zeros(out, np.float32)
        channels = out
    limit = np.sqrt(6 / (FEATURES + 1000))
    found["predictions"] = rng.uniform(-limit, limit, (FEATURES, 1000)).astype(np.float32)
    found["predictions_bias"] = np.zeros(1000, np.float32)
    return found


def build_model() -> keras.Model:
    import keras  # here: importing this module (the registry does) must not import Keras

    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1 / 128, offset=-127 / 128, name="rescaling")(inputs)
    for name, side, out, stride in CONVOLUTIONS:
        x = keras.layers.Conv2D(out, side, stride, "same", name=f"{name}_conv")(x)
        x = keras.layers.ReLU(6.0, name=f"{name}_activation")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(1000, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name="standin_tiny")
    for name, *_ in CONVOLUTIONS:
        model.get_layer(f"{name}_conv").set_weights([weights()[f"{name}_conv"], weights()[f"{name}_bias"]])
    model.get_layer("predictions").set_weights([weights()["predictions"], weights()["predictions_bias"]])
    return model


def append_litert(graph: Graph, pixels: int) -> tuple[int, int]:
    """The same network appended to a LiteRT graph: -> (pooled features, ImageNet probabilities)."""
    x = graph.multiply(pixels, graph.constant("rescaling/scale", np.float32(1 / 128)), "rescaling/mul")
    x = graph.add(x, graph.constant("rescaling/offset", np.float32(-127 / 128)), "rescaling")
    for name, _, _, stride in CONVOLUTIONS:
        kernel = weights()[f"{name}_conv"].transpose(3, 0, 1, 2)  # HWIO -> OHWI
        x = graph.conv(x, kernel, weights()[f"{name}_bias"], stride, True, f"{name}_activation")
    pooled = graph.spatial_mean(x, "avg_pool")
    logits = graph.dense(pooled, weights()["predictions"].T, weights()["predictions_bias"], "predictions/dense")
    return pooled, graph.softmax(logits, "predictions")

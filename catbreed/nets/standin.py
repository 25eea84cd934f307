"""A tiny CNN with random weights that keeps the backbone contract, so tests run in seconds.

It takes the same float32 (N, 32, 32, 3) pixels in 0..255 as the real backbones, names its layers
as `backbones.LayerNames` says, and ends in a 1000-class softmax. Its weights come from fixed
seeds, so every process builds the same network. Its pooled features still tell colours and
shapes apart, which is all the drawn test photos need; its ImageNet answers mean nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

IMAGE_SIZE = 32
FEATURES = 64
SEED = 7


def build_model() -> keras.Model:
    import keras  # here: importing this module (the registry does) must not import Keras

    def conv(filters: int, kernel: int, stride: int, name: str, seed: int) -> keras.layers.Conv2D:
        return keras.layers.Conv2D(
            filters, kernel, stride, "same", name=name, kernel_initializer=keras.initializers.HeNormal(seed)
        )

    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1 / 128, offset=-127 / 128, name="rescaling")(inputs)
    x = conv(8, 3, 2, "stem_conv", SEED)(x)
    x = keras.layers.ReLU(name="stem_activation")(x)
    x = conv(16, 3, 2, "block1a_conv", SEED + 1)(x)
    x = keras.layers.ReLU(name="block1a_activation")(x)
    x = conv(FEATURES, 1, 1, "top_conv", SEED + 2)(x)
    x = keras.layers.ReLU(name="top_activation")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(
        1000, activation="softmax", name="predictions", kernel_initializer=keras.initializers.GlorotUniform(SEED + 3)
    )(x)
    return keras.Model(inputs, outputs, name="standin_tiny")

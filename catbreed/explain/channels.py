"""What a channel looks for: an image made to excite it, and the photos of a data set that excite it most.

The image (Olah et al., "Feature Visualization", Distill 2017): start from faint noise and climb
the gradient of the channel's mean activation with respect to the pixels. Left alone, the climb
fills the image with high-frequency noise that excites the channel without looking like anything,
so the usual regularisation (and the climb follows the value before the ReLU, which always has a
gradient): the image is drawn at a quarter of the network's size and enlarged
(smooth by construction), shifted by a few random pixels at each step (jitter: no pattern that only
works at one offset), and kept in range through a tanh. Forty steps take a few seconds on a CPU.

The photos: each photo's mean activation of every channel of the layer, in one pass per batch, so
any channel's strongest photos are then a sort.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from catbreed.data.images import ImageSource, iter_image_batches

STEPS = 40
LEARNING_RATE = 0.05
JITTER = 8  # pixels


def channel_image(backbone: keras.Model, layer: str, channel: int, steps: int = STEPS, seed: int = 0) -> np.ndarray:
    """uint8 (S, S, 3): an image optimised to excite `channel` of `layer`."""
    import tensorflow as tf

    target = backbone.get_layer(layer)
    # Before the ReLU: a unit at 0 or at ReLU6's ceiling of 6 passes no gradient back, so the climb
    # follows the value the activation is taken of.
    output = target.input if isinstance(target, keras.layers.ReLU) else target.output
    probe = keras.Model(backbone.input, output)
    size = backbone.input_shape[1]
    rng = np.random.default_rng(seed)
    low = tf.Variable(rng.normal(0, 0.1, (1, size // 4, size // 4, 3)).astype(np.float32))

    def draw(variable):
        return 127.5 + 127.5 * tf.tanh(tf.image.resize(variable, (size, size), method="bilinear"))

    @tf.function  # one graph for the forty steps: eager Keras calls took four times as long
    def climb(shift):
        with tf.GradientTape() as tape:
            shifted = tf.roll(draw(low), shift=shift, axis=(1, 2))
            excitement = tf.reduce_mean(probe(shifted, training=False)[..., channel])
        gradient = tape.gradient(excitement, low)
        gradient = tf.where(tf.math.is_finite(gradient), gradient, tf.zeros_like(gradient))
        low.assign_add(LEARNING_RATE * gradient / (tf.math.reduce_std(gradient) + 1e-8))

    for _ in range(steps):
        climb(tf.constant(rng.integers(-JITTER, JITTER + 1, 2), dtype=tf.int32))
    return np.asarray(draw(low)[0]).clip(0, 255).astype(np.uint8)


def channel_strengths(backbone: keras.Model, layer: str, photos: Sequence[ImageSource], batch: int = 16) -> np.ndarray:
    """float32 (N, C): each photo's mean activation of every channel of `layer`."""
    probe = keras.Model(backbone.input, backbone.get_layer(layer).output)
    size = backbone.input_shape[1]
    rows = []
    for _, images in iter_image_batches(list(photos), size, batch):
        rows.append(np.asarray(probe(np.stack(images).astype(np.float32), training=False)).mean(axis=(1, 2)))
    return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, 0), np.float32)

"""What the network sees: first-layer filters, feature maps, and Grad-CAM ("where it looked").

Grad-CAM (Selvaraju et al., 2017) weighs each channel of the last convolutional layer by how
much the chosen class's score grows with it (the mean gradient), sums the weighted channels and
keeps the positive part: a coarse map of the regions that made the network say that class.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from catbreed.backbones import get_spec
from catbreed.bundle import ModelBundle
from catbreed.classifier import feature_extractor
from catbreed.images import ImageSource, load_for_model

# Anchors of a perceptually even dark-to-bright colour map (close to matplotlib's "inferno").
_COLOURS = np.array(
    [
        [0, 0, 4],
        [40, 11, 84],
        [101, 21, 110],
        [159, 42, 99],
        [212, 72, 66],
        [245, 125, 21],
        [250, 193, 39],
        [252, 255, 164],
    ],
    dtype=np.float32,
)


def colourise(values: np.ndarray) -> np.ndarray:
    """float (H, W) in 0..1 -> uint8 (H, W, 3) through the colour map."""
    position = np.clip(values, 0, 1) * (len(_COLOURS) - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(_COLOURS) - 1)
    fraction = (position - low)[..., None]
    return (_COLOURS[low] * (1 - fraction) + _COLOURS[high] * fraction).astype(np.uint8)


def _normalise(x: np.ndarray) -> np.ndarray:
    low, high = float(x.min()), float(x.max())
    return (x - low) / (high - low) if high > low else np.zeros_like(x)


def first_layer_filters(backbone: keras.Model, cell: int = 24, columns: int = 8) -> np.ndarray:
    """uint8 image of the stem's kernels (Lite0: 32 of 3x3x3), each scaled to 0..255 and enlarged."""
    kernels = backbone.get_layer("stem_conv").get_weights()[0]  # (k, k, 3, n)
    n = kernels.shape[-1]
    rows = -(-n // columns)
    gap = 2
    grid = np.full((rows * (cell + gap) - gap, columns * (cell + gap) - gap, 3), 255, dtype=np.uint8)
    for i in range(n):
        kernel = (_normalise(kernels[..., i]) * 255).astype(np.uint8)
        big = np.asarray(Image.fromarray(kernel).resize((cell, cell), Image.Resampling.NEAREST))
        r, c = divmod(i, columns)
        grid[r * (cell + gap) : r * (cell + gap) + cell, c * (cell + gap) : c * (cell + gap) + cell] = big
    return grid


@dataclass(frozen=True)
class FeatureMaps:
    layer: str
    shape: tuple[int, ...]  # the layer's output (H, W, channels)
    channels: list[int]  # the most active channels, strongest first
    maps: np.ndarray  # float32 (n, H, W), each normalised to 0..1


def feature_maps(backbone: keras.Model, image: ImageSource, layer: str, n: int = 8) -> FeatureMaps:
    """The `n` channels of `layer` that respond most strongly (by mean activation) to `image`."""
    size = backbone.input_shape[1]
    probe = keras.Model(backbone.input, backbone.get_layer(layer).output)
    pixels = load_for_model(image, size)[None].astype(np.float32)
    activations = np.asarray(probe(pixels, training=False))[0]  # (H, W, C)
    strongest = np.argsort(activations.mean(axis=(0, 1)))[::-1][:n]
    maps = np.stack([_normalise(activations[..., c]) for c in strongest])
    return FeatureMaps(layer, activations.shape, [int(c) for c in strongest], maps.astype(np.float32))


@dataclass(frozen=True)
class Block:
    name: str  # "stem", "block1a", ..., "top"
    layers: int
    output_shape: tuple[int, ...]  # (H, W, channels) of the block's last layer
    parameters: int


def architecture(backbone: keras.Model) -> list[Block]:
    """The backbone as its blocks, in order, each with its output shape and parameter count."""
    blocks: dict[str, list[keras.layers.Layer]] = {}
    for layer in backbone.layers[1:]:
        prefix = layer.name.split("_")[0]
        if prefix in ("avg", "rescaling", "normalization") or isinstance(layer, keras.layers.Dropout):
            continue  # pooling, input scaling and dropout are not blocks
        blocks.setdefault(prefix, []).append(layer)
    return [
        Block(name, len(layers), tuple(layers[-1].output.shape[1:]), sum(layer.count_params() for layer in layers))
        for name, layers in blocks.items()
    ]


def gradcam(
    bundle: ModelBundle, backbone: keras.Model, image: ImageSource, class_index: int | None = None
) -> np.ndarray:
    """float32 (h, w) in 0..1 over the last conv layer's grid (7x7 for 224 px): where `class_index`
    (by default the answer) was seen. `backbone` is the bundle's, built (backbones.create_backbone).

    For an ensemble the map is its first member's: the other members' features enter the head as
    constants, so the gradient is exactly that of the whole model's answer through that member.
    """
    spec = get_spec(bundle.backbone)
    network = backbone.get_layer(spec.members[0]) if spec.members else backbone
    probe = keras.Model(
        network.input,
        [network.get_layer(name).output for name in (spec.gradcam_layer, "avg_pool", "predictions")],
    )
    pixels = tf.constant(load_for_model(image, network.input_shape[1])[None], dtype=tf.float32)
    if bundle.head is not None:
        head = bundle.head.to_keras()
        whole = load_for_model(image, bundle.image_size)[None].astype(np.float32)
        features = np.asarray(feature_extractor(backbone)(whole)[0])
    with tf.GradientTape() as tape:
        conv_output, pooled, imagenet = probe(pixels, training=False)
        tape.watch(conv_output)
        if bundle.head is None:  # the built-in model: its breeds are the ImageNet classes
            probabilities = imagenet
        else:
            probabilities = head(tf.concat([pooled, features[:, pooled.shape[-1] :]], axis=-1), training=False)
        if class_index is None:
            class_index = int(tf.argmax(probabilities[0]))
        score = probabilities[:, class_index]
    gradients = tape.gradient(score, conv_output)[0]  # (h, w, c)
    channel_weights = tf.reduce_mean(gradients, axis=(0, 1))
    cam = tf.nn.relu(tf.reduce_sum(conv_output[0] * channel_weights, axis=-1)).numpy()
    return _normalise(cam).astype(np.float32)


def overlay(image: ImageSource, heatmap: np.ndarray, size: int = 320, alpha: float = 0.45) -> np.ndarray:
    """uint8 (size, size, 3): the photo's central square with the heatmap laid over it in colour."""
    photo = load_for_model(image, size).astype(np.float32)
    smooth = np.asarray(
        Image.fromarray((heatmap * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    )
    colour = colourise(smooth.astype(np.float32) / 255).astype(np.float32)
    return (photo * (1 - alpha) + colour * alpha).astype(np.uint8)

"""What the network sees inside: its first-layer filters, its feature maps, and its blocks.

The Learn page shows these on the real backbone in use, so a learner sees the filters and maps
of the network that answers their photos, not a textbook's.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from PIL import Image

from catbreed.data.images import ImageSource, load_for_model

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


def normalise(x: np.ndarray) -> np.ndarray:
    """Scale to 0..1 (all zeros when flat), so maps of any range show with the full colour map."""
    low, high = float(x.min()), float(x.max())
    return (x - low) / (high - low) if high > low else np.zeros_like(x)


def first_layer_filters(backbone: keras.Model, layer: str, cell: int = 24, columns: int = 8) -> np.ndarray:
    """uint8 image of the kernels of convolution `layer` (Lite0's stem: 32 of 3x3x3), each scaled
    to 0..255 and enlarged."""
    kernels = backbone.get_layer(layer).get_weights()[0]  # (k, k, 3, n)
    n = kernels.shape[-1]
    rows = -(-n // columns)
    gap = 2
    grid = np.full((rows * (cell + gap) - gap, columns * (cell + gap) - gap, 3), 255, dtype=np.uint8)
    for i in range(n):
        kernel = (normalise(kernels[..., i]) * 255).astype(np.uint8)
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
    maps = np.stack([normalise(activations[..., c]) for c in strongest])
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

"""Click through the real network: how one value of a feature map was computed, with its numbers.

A unit of a feature map is one number: the activation at row y, column x of channel c of a layer.
In the networks catbreed uses it comes from a short chain, read here from the network's own
graph: a convolution over the previous layer's output (a full one at the stem, a depthwise one
that looks at one channel through a k x k window, or a pointwise 1 x 1 one that mixes every channel
at one place, as EfficientNet's blocks do), then batch normalisation (a fixed scale and shift once
trained), then ReLU6 (negative values become 0, values above 6 become 6). `trace` gives each step's
numbers for one photo and one unit: the input patch, the kernel, their products' sum, the
normalised value and the activation, and the network's own value beside it, which is the same.

The head's step, from the pooled features to the breeds' probabilities, is `head_step`.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from catbreed.data.images import ImageSource, load_for_model
from catbreed.models.head import LinearHead, normalise

FULL, DEPTHWISE, POINTWISE = "full", "depthwise", "pointwise"


@dataclass(frozen=True)
class Chain:
    """The layers that make one activation layer's values."""

    activation: str
    normalisation: str | None  # a BatchNormalization layer; None when the convolution has a bias
    convolution: str
    kind: str  # FULL, DEPTHWISE or POINTWISE


def _producer(layer: keras.layers.Layer) -> keras.layers.Layer:
    return layer._inbound_nodes[0].input_tensors[0]._keras_history.operation


def chains(backbone: keras.Model) -> list[Chain]:
    """Every ReLU layer fed by a convolution (through batch normalisation or not), in order."""
    found = []
    for layer in backbone.layers:
        if not isinstance(layer, keras.layers.ReLU):
            continue
        before = _producer(layer)
        normalisation = before.name if isinstance(before, keras.layers.BatchNormalization) else None
        conv = _producer(before) if normalisation else before
        if isinstance(conv, keras.layers.DepthwiseConv2D):
            kind = DEPTHWISE
        elif isinstance(conv, keras.layers.Conv2D):
            kind = POINTWISE if conv.kernel_size == (1, 1) else FULL
        else:
            continue
        found.append(Chain(layer.name, normalisation, conv.name, kind))
    return found


@dataclass(frozen=True)
class UnitTrace:
    chain: Chain
    y: int
    x: int
    channel: int
    patch: np.ndarray  # what the kernel multiplies: (k, k, C) full, (k, k) depthwise, (C,) pointwise
    kernel: np.ndarray  # the same shape
    bias: float  # the convolution's own bias (0 when batch normalisation follows)
    total: float  # sum(patch * kernel) + bias
    scale: float  # batch normalisation: gamma / sqrt(variance + epsilon) (1 without it)
    shift: float  # beta - mean * scale (0 without it)
    normalised: float  # total * scale + shift
    ceiling: float | None  # ReLU's max_value (6 for ReLU6); None: no ceiling
    activation: float  # min(max(normalised, 0), ceiling)
    network: float  # the network's own value at this unit
    feature_map: np.ndarray  # float32 (H, W): the whole channel, for a picture


def _window(inputs: np.ndarray, y: int, x: int, size: int, stride: int, padding: str) -> np.ndarray:
    """The (size, size, C) patch of `inputs` (H, W, C) that output (y, x) sees; zeros outside, as
    'same' padding pads (TensorFlow puts the odd pixel after)."""
    height, width, _ = inputs.shape
    if padding == "same":
        out_h, out_w = -(-height // stride), -(-width // stride)
        top = max((out_h - 1) * stride + size - height, 0) // 2
        left = max((out_w - 1) * stride + size - width, 0) // 2
    else:
        top = left = 0
    patch = np.zeros((size, size, inputs.shape[2]), np.float32)
    for i in range(size):
        for j in range(size):
            r, c = y * stride - top + i, x * stride - left + j
            if 0 <= r < height and 0 <= c < width:
                patch[i, j] = inputs[r, c]
    return patch


def trace(
    backbone: keras.Model,
    image: ImageSource,
    chain: Chain,
    channel: int | None = None,
    y: int | None = None,
    x: int | None = None,
) -> UnitTrace:
    """The numbers behind one unit of `chain`'s activation for `image`; without `channel`, the
    channel with the strongest unit; without (y, x), the channel's strongest unit below ReLU6's ceiling."""
    conv = backbone.get_layer(chain.convolution)
    activation = backbone.get_layer(chain.activation)
    probe = keras.Model(backbone.input, [conv.input, activation.output])
    pixels = load_for_model(image, backbone.input_shape[1])[None].astype(np.float32)
    inputs, outputs = (np.asarray(t)[0] for t in probe(pixels, training=False))
    if channel is None:
        channel = int(np.argmax(outputs.max(axis=(0, 1))))
    feature_map = outputs[..., channel]
    if y is None or x is None:
        # The strongest unit that ReLU6 did not cut off at its ceiling, when there is one: there
        # every step of the sum shows in the result.
        ceiling = activation.max_value
        below = np.where(feature_map < ceiling, feature_map, -np.inf) if ceiling is not None else feature_map
        chosen = below if np.isfinite(below).any() and below.max() > 0 else feature_map
        y, x = (int(i) for i in np.unravel_index(int(np.argmax(chosen)), feature_map.shape))
    weights = conv.get_weights()
    size, stride = conv.kernel_size[0], conv.strides[0]
    window = _window(inputs, y, x, size, stride, conv.padding)
    if chain.kind == DEPTHWISE:
        patch, kernel = window[..., channel], weights[0][..., channel, 0]
    elif chain.kind == POINTWISE:
        patch, kernel = window[0, 0], weights[0][0, 0, :, channel]
    else:
        patch, kernel = window, weights[0][..., channel]
    bias = float(weights[1][channel]) if conv.use_bias else 0.0
    total = float(np.sum(patch.astype(np.float64) * kernel)) + bias
    scale, shift = 1.0, 0.0
    if chain.normalisation:
        bn = backbone.get_layer(chain.normalisation)
        gamma, beta, mean, variance = (w[channel] for w in bn.get_weights())
        scale = float(gamma / np.sqrt(variance + bn.epsilon))
        shift = float(beta - mean * scale)
    normalised = total * scale + shift
    ceiling = activation.max_value
    ceiling = float(ceiling) if ceiling is not None else None
    value = max(normalised, 0.0) if ceiling is None else min(max(normalised, 0.0), ceiling)
    return UnitTrace(
        chain,
        y,
        x,
        channel,
        patch,
        kernel,
        bias,
        total,
        scale,
        shift,
        normalised,
        ceiling,
        value,
        float(outputs[y, x, channel]),
        feature_map.astype(np.float32),
    )


@dataclass(frozen=True)
class HeadStep:
    """From the pooled features to the probabilities, for one photo: the numbers of each step."""

    features: np.ndarray  # float32 (D,) as the backbone pooled them
    normalised: np.ndarray  # float32 (D,) as the head reads them (each network's block to one length)
    scores: np.ndarray  # float32 (C,) normalised . weights + bias
    temperature: float
    probabilities: np.ndarray  # softmax(scores / temperature)
    contributions: np.ndarray  # float32 (D,) normalised * the top breed's weights: what pushed it up


def head_step(head: LinearHead, features: np.ndarray) -> HeadStep:
    row = np.asarray(features, np.float32)[None]
    x = normalise(row, head.blocks)[0]
    scores, probabilities = head.logits(row)[0], head.predict_proba(row)[0]  # the head's own steps
    top = int(np.argmax(probabilities))
    return HeadStep(
        np.asarray(features, np.float32), x, scores, head.temperature_, probabilities, x * head.weights_[:, top]
    )

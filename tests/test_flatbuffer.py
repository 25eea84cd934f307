"""The LiteRT graph writer, operator by operator, against the Keras layers it stands in for."""

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from catbreed.nets.flatbuffer import Graph

RNG = np.random.default_rng(0)


def weights(*shape) -> np.ndarray:
    return RNG.normal(0, 0.3, shape).astype(np.float32)


def run(flatbuffer: bytes, pixels: np.ndarray) -> dict[str, np.ndarray]:
    runner = Interpreter(model_content=flatbuffer, num_threads=1).get_signature_runner()
    return runner(image=pixels)


@pytest.mark.parametrize("side", [9, 10])  # odd and even: "same" padding is lopsided for stride 2
def test_a_small_network_answers_as_the_same_keras_layers_do(side):
    conv_kernel, conv_bias = weights(3, 3, 3, 8), weights(8)  # HWIO, as Keras keeps it
    depthwise_kernel, depthwise_bias = weights(5, 5, 8, 1), weights(8)
    pointwise_kernel, pointwise_bias = weights(1, 1, 8, 8), weights(8)
    dense_weights, dense_bias = weights(8, 5), weights(5)  # (in, out), as Keras keeps it

    image = keras.Input((side, side, 3))
    x = keras.layers.Conv2D(8, 3, 2, "same", activation=keras.activations.relu6)(image)
    y = keras.layers.DepthwiseConv2D(5, 1, "same", activation=keras.activations.relu6)(x)
    y = keras.layers.Conv2D(8, 1)(y)
    x = keras.layers.Add()([x, y])
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    small = keras.layers.Resizing(6, 6)(image)
    both = keras.layers.Concatenate()([pooled, keras.layers.GlobalAveragePooling2D()(small * 0.5 + 1.0)])
    probabilities = keras.layers.Dense(5, activation="softmax")(pooled)
    model = keras.Model(image, [both, probabilities])
    conv, depthwise, pointwise, dense = (
        layer for layer in model.layers if layer.weights and not isinstance(layer, keras.layers.InputLayer)
    )
    conv.set_weights([conv_kernel, conv_bias])
    depthwise.set_weights([depthwise_kernel, depthwise_bias])
    pointwise.set_weights([pointwise_kernel, pointwise_bias])
    dense.set_weights([dense_weights, dense_bias])

    graph = Graph()
    pixels = graph.input("image", (side, side, 3))
    x = graph.conv(pixels, conv_kernel.transpose(3, 0, 1, 2), conv_bias, 2, True, "conv")
    y = graph.depthwise_conv(x, depthwise_kernel.transpose(3, 0, 1, 2), depthwise_bias, 1, True, "depthwise")
    y = graph.conv(y, pointwise_kernel.transpose(3, 0, 1, 2), pointwise_bias, 1, False, "pointwise")
    pooled = graph.spatial_mean(graph.add(x, y, "add"), "pooled")
    small = graph.resize(pixels, 6, "resize")
    small = graph.add(
        graph.multiply(small, graph.constant("half", np.float32(0.5)), "mul"),
        graph.constant("one", np.float32(1)),
        "plus",
    )
    both = graph.concatenate([pooled, graph.spatial_mean(small, "small_pooled")], "both")
    logits = graph.dense(pooled, dense_weights.T, dense_bias, "logits")
    flatbuffer = graph.to_bytes({"image": pixels}, {"both": both, "probabilities": graph.softmax(logits, "softmax")})

    batch = RNG.uniform(0, 1, (3, side, side, 3)).astype(np.float32)
    ours = run(flatbuffer, batch)
    theirs = model.predict_on_batch(batch)
    assert ours["both"].shape == (3, 8 + 3)
    np.testing.assert_allclose(ours["both"], theirs[0], atol=1e-5)
    np.testing.assert_allclose(ours["probabilities"], theirs[1], atol=1e-5)


def test_one_photo_and_a_batch_run_through_the_same_written_graph():
    graph = Graph()
    pixels = graph.input("image", (8, 8, 3))
    features = graph.spatial_mean(graph.conv(pixels, weights(4, 3, 3, 3), weights(4), 2, False, "conv"), "pooled")
    flatbuffer = graph.to_bytes({"image": pixels}, {"features": features})
    batch = RNG.uniform(0, 255, (4, 8, 8, 3)).astype(np.float32)
    together = run(flatbuffer, batch)["features"]
    alone = np.concatenate([run(flatbuffer, batch[i : i + 1])["features"] for i in range(4)])
    np.testing.assert_allclose(together, alone, atol=1e-5)

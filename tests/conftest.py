"""Shared fixtures: a private CATBREED_HOME, drawn photos that a CNN can tell apart, and networks.

`backbone` and `extractor` are the 32 px stand-in (random weights, the real layer contract): every
step of the journey runs on it in seconds. Tests that need the real EfficientNet-Lite0
(`lite0_backbone`, `lite0_extractor`) or the shared cat photos are marked `slow` here, by the
fixtures they ask for, so `pytest -m "not slow"` is the fast inner loop and CI runs everything.
"""

from __future__ import annotations

import gc
import io
import os
import random
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

OXFORD_CATS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "oxford-cats"

# Three "breeds" a pretrained CNN separates easily: colour and shape differ.
SHAPES = {"red_circles": ("red", "ellipse"), "blue_squares": ("blue", "rectangle"), "green_bars": ("green", "bar")}


def drawn_photo(kind: str, seed: int, size: tuple[int, int] = (160, 120)) -> Image.Image:
    colour, shape = SHAPES[kind]
    rng = random.Random(f"{kind}-{seed}")
    grey = rng.randint(180, 240)
    image = Image.new("RGB", size, (grey, grey, grey))
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(3):
        x, y = rng.randint(0, w // 2), rng.randint(0, h // 2)
        s = rng.randint(min(w, h) // 4, min(w, h) // 2)
        if shape == "ellipse":
            draw.ellipse((x, y, x + s, y + s), fill=colour)
        elif shape == "rectangle":
            draw.rectangle((x, y, x + s, y + s), fill=colour)
        else:
            draw.rectangle((x, y, x + s // 5, y + s), fill=colour)
    return image


def jpeg_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def make_dataset_folder(root: Path, per_class: int = 12, kinds=tuple(SHAPES)) -> Path:
    for kind in kinds:
        (root / kind).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (root / kind / f"{i:03d}.jpg").write_bytes(jpeg_bytes(drawn_photo(kind, i)))
    return root


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def pytest_configure(config):
    """A test worker beside another (pytest-xdist) runs at the lowest priority, the one the app gives
    its training worker (jobs._yield_the_cores): otherwise the other worker's tests, at the normal
    priority, starve a browser test's training, which once took more than five minutes for 48 photos."""
    if os.environ.get("PYTEST_XDIST_WORKER") and hasattr(os, "nice"):
        os.nice(19)


_FROZEN_WITH_KERAS = []


def pytest_runtest_setup(item):
    """Once TensorFlow is loaded, keep its objects out of later collections, as the app's frame does
    (pages/frame/shared._keep_out_of_collections): every AppTest run ends in Streamlit's full
    collection and Keras's clear_session, 0.26 s each over TensorFlow's objects."""
    if "keras" in sys.modules and not _FROZEN_WITH_KERAS:
        gc.collect()
        gc.freeze()
        _FROZEN_WITH_KERAS.append(True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failed test (screenshots)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session", autouse=True)
def catbreed_home(tmp_path_factory) -> Path:
    """Every test run gets its own CATBREED_HOME, so no cache from an earlier run hides a bug."""
    home = tmp_path_factory.mktemp("catbreed-home")
    os.environ["CATBREED_HOME"] = str(home)
    return home


@pytest.fixture
def own_home(tmp_path, monkeypatch, catbreed_home) -> Path:
    """A CATBREED_HOME of this test's own (no models, data sets, features or passes), that reuses the
    networks this run converted already: a stand-in's conversion alone takes seconds."""
    home = tmp_path / "home"
    home.mkdir()
    for folder in ("backbones", "runtime"):
        (catbreed_home / folder).mkdir(exist_ok=True)
        (home / folder).symlink_to(catbreed_home / folder)
    monkeypatch.setenv("CATBREED_HOME", str(home))
    return home


SLOW_FIXTURES = {"lite0_backbone", "lite0_extractor", "lite0_trained", "oxford_cats", "cat_photo"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def standin_settings():
    """Training settings that run on the stand-in backbone."""
    from catbreed.learn.settings import TrainSettings
    from catbreed.nets.backbones import STANDIN_BACKBONE

    return TrainSettings(backbone=STANDIN_BACKBONE)


@pytest.fixture(scope="session")
def backbone(catbreed_home):
    from catbreed.nets.backbones import STANDIN_BACKBONE, create_backbone

    return create_backbone(STANDIN_BACKBONE)


@pytest.fixture(scope="session")
def extractor(catbreed_home):
    """The stand-in's LiteRT feature extractor, converted once for the whole run."""
    from catbreed.nets.backbones import STANDIN_BACKBONE
    from catbreed.nets.runtime import load_extractor

    return load_extractor(STANDIN_BACKBONE)


@pytest.fixture(scope="session")
def lite0_backbone(catbreed_home):
    from catbreed.nets.backbones import create_backbone

    return create_backbone()


@pytest.fixture(scope="session")
def lite0_extractor(catbreed_home):
    from catbreed.nets.runtime import load_extractor

    return load_extractor("efficientnet_lite0")


@pytest.fixture(scope="session")
def shapes_folder(tmp_path_factory) -> Path:
    return make_dataset_folder(tmp_path_factory.mktemp("shapes"))


@pytest.fixture(scope="session")
def shapes_zip(shapes_folder, tmp_path_factory) -> Path:
    return zip_folder(shapes_folder, tmp_path_factory.mktemp("zips") / "shapes.zip")


@pytest.fixture(scope="session")
def oxford_cats() -> Path:
    if not OXFORD_CATS.is_dir():
        pytest.skip(f"real cat photos not found at {OXFORD_CATS} (the shared data folder is absent)")
    return OXFORD_CATS


@pytest.fixture(scope="session")
def cat_photo(oxford_cats) -> Path:
    return oxford_cats / "Siamese" / "Siamese_100.jpg"


@pytest.fixture(scope="session")
def trained(shapes_folder, extractor, standin_settings):
    """A model of the three drawn 'breeds' on the stand-in, trained once for the tests that need one."""
    import dataclasses

    from catbreed.data.dataset import check_folder
    from catbreed.learn.training import train

    settings = dataclasses.replace(standin_settings, test_percent=25)
    return train(check_folder(shapes_folder), settings, extractor=extractor)


@pytest.fixture(scope="session")
def lite0_trained(shapes_folder, lite0_extractor):
    """The same drawn 'breeds' learned by the real quick mode, for tests of real answers."""
    from catbreed.data.dataset import check_folder
    from catbreed.learn.settings import TrainSettings
    from catbreed.learn.training import train

    return train(check_folder(shapes_folder), TrainSettings(test_percent=25), extractor=lite0_extractor)

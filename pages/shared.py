"""What every page shares: the heavy objects, loaded once per process and kept by Streamlit.

Nothing here draws; the functions only build or fetch objects from `catbreed`.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import keras
import numpy as np
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from catbreed.explain import gradcam
from catbreed.jobs import JobManager
from catbreed.models.predict import BUILTIN_NAME, Predictor, builtin_bundle
from catbreed.models.store import ModelStore, SavedModel
from catbreed.nets.backbones import DEFAULT_BACKBONE, create_backbone
from catbreed.nets.runtime import LiteRTExtractor, load_extractor

APP_SCRIPT = Path(__file__).resolve().parents[1] / "app.py"


def run_inside_navigation() -> None:
    """Call first on every page: a deep link (/train) must not bypass app.py's navigation.

    Streamlit serves the first request after start-up in its old pages/-folder mode, which runs
    pages/<name>.py on its own (no page config, file names in the sidebar) until app.py has called
    st.navigation once. Running app.py here, in the same script run, sends this request through
    the real navigation without losing the click or upload that triggered it.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP_SCRIPT), run_name="__main__")
        st.stop()


@st.cache_resource(show_spinner="Loading the pretrained CNN…")
def backbone(name: str = DEFAULT_BACKBONE) -> keras.Model:
    return create_backbone(name)


@st.cache_resource(show_spinner="Preparing the CNN for fast answers…")
def extractor(name: str = DEFAULT_BACKBONE) -> LiteRTExtractor:
    return load_extractor(name)


@st.cache_resource
def job_manager() -> JobManager:
    return JobManager(extractor_for=extractor)


@st.cache_resource(show_spinner="Loading the model…", max_entries=3)
def _predictor(name: str | None, created: str) -> Predictor:
    """One predictor per saved model version (`created` changes when a name is reused)."""
    bundle = builtin_bundle() if name is None else ModelStore().load(name)
    predictor = Predictor(bundle, extractor(bundle.backbone))
    predictor.warm_up()
    return predictor


def active_predictor() -> Predictor:
    return _predictor(*_active_version())


@st.cache_data(max_entries=16, show_spinner="Finding where it looked…")
def _where_it_looked(photo: bytes, label: str, model: str | None, created: str) -> np.ndarray:
    bundle = _predictor(model, created).bundle
    return gradcam.where_it_looked(bundle, backbone(bundle.backbone), photo, label, size=320)


def where_it_looked(photo: bytes, label: str) -> np.ndarray:
    """uint8 (320, 320, 3): the photo with a Grad-CAM heatmap of the active model's answer `label`."""
    return _where_it_looked(photo, label, *_active_version())


def _active_version() -> tuple[str | None, str]:
    """(name, created) of the model in use; `created` tells a reused name's versions apart."""
    model = ModelStore().in_use()
    return (model.name, model.created) if model else (None, "")


def expected_accuracy_text(model: SavedModel) -> str:
    """'expected accuracy on new photos 90.7% (87.2-93.9%)', the words Home and Models share."""
    expected = model.expected_accuracy
    return f"expected accuracy on new photos {expected.describe()}" if expected else "accuracy not estimated"


def active_model_label() -> str:
    return ModelStore().active() or BUILTIN_NAME


_MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-.!|~$:=")


def plain(text: str) -> str:
    """User text (breed and file names) made safe for Markdown: every special character escaped."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in str(text))

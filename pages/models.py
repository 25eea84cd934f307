from pathlib import Path

import pandas as pd
import streamlit as st

from catbreed.errors import CatbreedError
from catbreed.models.bundle import ModelBundle, export_bytes
from catbreed.models.store import ModelStore, SavedModel
from pages.shared import BUILTIN_NAME, backbone, expected_accuracy_text, plain, run_inside_navigation

run_inside_navigation()

store = ModelStore()


def confirm_delete(name: str) -> None:
    """Ask once more, in place, before removing a model from disk."""
    st.warning(f"Delete “{plain(name)}” from disk? This cannot be undone.", icon=":material/delete:")
    yes, no = st.columns(2)
    if yes.button("Delete", type="primary", key=f"confirm-{name}"):
        store.delete(name)
        st.session_state.pop("deleting", None)
        st.rerun()
    if no.button("Keep it", key=f"keep-{name}"):
        st.session_state.pop("deleting", None)
        st.rerun()


@st.cache_data(show_spinner="Converting to TFLite…", max_entries=4)
def tflite_bytes(path: str, created: str) -> bytes:
    bundle = ModelBundle.load(Path(path))
    return export_bytes(bundle, "tflite", quantize=True, backbone=backbone(bundle.backbone))


def model_details(model: SavedModel) -> None:
    meta = model.metadata
    expected = model.expected_accuracy
    st.write(f"Backbone {plain(meta.backbone)} · mode {plain(meta.mode or '?')} · " + expected_accuracy_text(model))
    if expected:
        st.caption(plain(f"Estimated by {expected.method}."))
    st.text("Breeds: " + ", ".join(model.classes))
    download, export, delete = st.columns(3)
    download.download_button(
        "Download model (.zip)",
        data=lambda: store.zip_bytes(model.name),
        file_name=f"{model.name}.zip",
        mime="application/zip",
        key=f"zip-{model.name}",
    )
    if export.button("Prepare TFLite file", key=f"tflite-{model.name}"):
        st.session_state[f"tflite-ready-{model.name}"] = True
    if st.session_state.get(f"tflite-ready-{model.name}"):
        export.download_button(
            "Download .tflite (quantised)",
            data=tflite_bytes(str(model.path), model.created),
            file_name=f"{model.name}.tflite",
            mime="application/octet-stream",
            key=f"tflite-dl-{model.name}",
        )
    if delete.button("Delete…", key=f"delete-{model.name}"):
        st.session_state.deleting = model.name
    if st.session_state.get("deleting") == model.name:
        confirm_delete(model.name)


st.title("Models")
models = store.list()
active = store.active()
names = [None] + [m.name for m in models]
choice = st.selectbox(
    "Model in use",
    names,
    index=names.index(active),
    format_func=lambda n: BUILTIN_NAME if n is None else n,
    help="The Classify page uses this model.",
)
if choice != active:
    try:
        store.set_active(choice)
    except CatbreedError as error:
        st.error(plain(str(error)))
    st.rerun()

if not models:
    st.info("No saved models yet. Train one on the Train page; until then the built-in ImageNet model is used.")
else:
    rows = []
    for m in models:
        expected = m.expected_accuracy
        low_high = (expected.value, expected.low, expected.high) if expected else (None, None, None)
        rows.append((m.name, m.created[:16].replace("T", " "), len(m.classes), *low_high))
    table = pd.DataFrame(rows, columns=["name", "created", "breeds", "expected accuracy", "from", "to"])
    st.dataframe(
        table.style.format({c: "{:.1%}" for c in ("expected accuracy", "from", "to")}, na_rep="–"),
        hide_index=True,
    )
    st.caption("Expected accuracy on new photos, by cross-validation, with its 95% interval (from – to).")
    for model in models:
        with st.expander(plain(model.name) + ("  (in use)" if model.name == active else "")):
            model_details(model)

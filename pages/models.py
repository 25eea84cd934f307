from urllib.parse import quote

import pandas as pd
import streamlit as st

from catbreed.data.saved_datasets import DatasetStore
from catbreed.errors import CatbreedError
from catbreed.explain import charts
from catbreed.models.bundle import ModelBundle
from catbreed.models.card import SAMPLE_PHOTOS, model_card, verdict_lines
from catbreed.models.compare import (
    RATE_COLUMNS,
    RECALL_PREFIX,
    breed_differences,
    comparison_frame,
    model_rows,
    photo_disagreements,
)
from catbreed.models.export import ParityReport, export_zip
from catbreed.models.predict import Predictor
from catbreed.models.store import BUILTIN, ModelStore, SavedModel
from pages.frame.shared import (
    BUILTIN_NAME,
    backbone,
    chosen_model,
    expected_accuracy_text,
    extractor,
    operator_form,
    plain,
    use_model,
    visitor,
)

store = ModelStore()
EXPORTS = {
    "TFLite": ("tflite", False),
    "TFLite, quantised (4x smaller)": ("tflite", True),
    "SavedModel (TensorFlow)": ("saved_model", False),
}


@st.cache_data(show_spinner="Exporting and checking the export against the app…", max_entries=4)
def checked_export(path: str, created: str, choice: str, name: str) -> tuple[bytes, ParityReport]:
    format, quantize = EXPORTS[choice]
    bundle = ModelBundle.load(store.path(name))
    app = Predictor(bundle, extractor(bundle.backbone))
    return export_zip(bundle, format, app, quantize, backbone(bundle.backbone), name)


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


def default_pair(models: list[SavedModel]) -> tuple[int, int]:
    """The newest two models that know the same breeds (they compare breed by breed), else the newest two."""
    for i, a in enumerate(models):
        for j in range(i + 1, len(models)):
            if sorted(a.metadata.classes) == sorted(models[j].metadata.classes):
                return i, j
    return 0, min(1, len(models) - 1)


def compare_two(models: list[SavedModel]) -> None:
    st.subheader("Compare two", anchor=False)
    names = [m.name for m in models]
    first_index, second_index = default_pair(models)
    left, right = st.columns(2)
    first = left.selectbox("First", names, index=first_index, key="compare-first")
    second = right.selectbox("Second", names, index=second_index, key="compare-second")
    a, b = (next(m for m in models if m.name == n).metadata for n in (first, second))
    rows = [(d.breed, d.first, d.second, d.change) for d in breed_differences(a, b)]
    frame = pd.DataFrame(rows, columns=["breed", f"recall: {first}", f"recall: {second}", "change"])
    frame[frame.columns[1:]] = frame[frame.columns[1:]].astype(float)  # a breed one model lacks: blank, not "None"
    st.dataframe(frame.style.format("{:.0%}", subset=frame.columns[1:], na_rep="–"), hide_index=True)
    st.caption(
        "Recall: of a breed's photos, how many the model named right (each scored by a model that had not seen it)."
    )
    disagreements = photo_disagreements(a, b)
    if disagreements is None:
        st.caption("They were trained on different photos, so they cannot be compared photo by photo.")
    else:
        only_first, only_second = st.columns(2)
        only_first.write(f"Only **{plain(first)}** got right: {len(disagreements.only_first_right)} photos")
        only_first.text("\n".join(disagreements.only_first_right[:20]))
        only_second.write(f"Only **{plain(second)}** got right: {len(disagreements.only_second_right)} photos")
        only_second.text("\n".join(disagreements.only_second_right[:20]))


def show_verdicts(model: SavedModel) -> None:
    """The trade-off the default thresholds make; Classify's sliders move them."""
    metrics = model.metadata.metrics
    if not metrics or not metrics.coverage:
        st.caption("This model was not trained with cross-validation, so it has no measured thresholds.")
        return
    for line in verdict_lines(model.metadata):
        st.write(plain(line))
    st.caption(
        "Stricter thresholds refuse more photos and get more of the named ones right; move them with the sliders "
        "on the Classify page. The chart: for each “not sure” threshold, how many photos it would name and how "
        "many of those were right."
    )
    st.altair_chart(charts.coverage(metrics.coverage, metrics.not_sure_below or 0.0), width="stretch")


def export_section(model: SavedModel) -> None:
    choice = st.radio("Export as", list(EXPORTS), horizontal=True, key=f"format-{model.name}")
    if st.button("Export and check", key=f"export-{model.name}"):
        st.session_state[f"exported-{model.name}"] = choice
    chosen = st.session_state.get(f"exported-{model.name}")
    if chosen != choice:
        return
    try:
        data, report = checked_export(str(model.path), model.created, choice, model.name)
    except CatbreedError as error:  # a damaged model: say so here, keep the rest of the page
        st.error(plain(str(error)), icon=":material/error:")
        return
    if report.flagged:
        st.error(f"This export {report.describe()}. Do not use it.", icon=":material/error:")
        return
    st.success(f"The export {report.describe()}.", icon=":material/verified:")
    st.download_button(
        "Download the package (.zip)",
        data=data,
        file_name=f"{model.name} {EXPORTS[choice][0]}{' quantised' if EXPORTS[choice][1] else ''}.zip",
        mime="application/zip",
        key=f"package-{model.name}",
        help="The model, labels.txt, export.json with this check, the model card and classify.py, "
        "an example that runs with the package alone.",
    )


def model_details(model: SavedModel) -> None:
    meta = model.metadata
    st.caption(whose(model).capitalize() + ".")
    st.write(f"Backbone {plain(meta.backbone)} · mode {plain(meta.mode or '?')} · " + expected_accuracy_text(model))
    source = meta.data.source if meta.data else None
    learned_from = DatasetStore().get(source.dataset_id) if source else None
    if learned_from and visitor().may_open(learned_from.ownership):
        st.markdown(
            f"Learned from the data set “{plain(source.name)}”, version {source.version}: [open its photos on the Train page](train?data={source.dataset_id}&model={quote(chosen.key)})."
        )
    card, verdicts, export = st.tabs(["Model card", "Verdicts", "Export"])
    with card:
        st.markdown(model_card(model.name, meta))
    with verdicts:
        show_verdicts(model)
    with export:
        export_section(model)
    download, share, delete = st.columns(3)
    download.download_button(
        "Download for catbreed (.zip)",
        data=lambda: store.zip_file(model.name),
        file_name=f"{model.name}.zip",
        mime="application/zip",
        key=f"zip-{model.name}",
        help=f"The model folder, with up to {SAMPLE_PHOTOS} of its training photos (small copies, used to check "
        "exports): share it only where those photos may go.",
    )
    if not visitor().may_change(model.ownership):
        return
    shared = share.toggle(
        "Shared with everyone",
        value=model.ownership.shared or model.ownership.owner is None,
        disabled=model.ownership.owner is None,  # the house's models are everyone's
        key=f"share-{model.name}",
        help="Everyone on this server may then choose it and download it; only you change or delete it.",
    )
    if model.ownership.owner is not None and shared != model.ownership.shared:
        try:
            store.share(model.name, shared)
        except CatbreedError as error:
            st.error(plain(str(error)))
        else:
            st.rerun()
    if delete.button("Delete…", key=f"delete-{model.name}"):
        st.session_state.deleting = model.name
    if st.session_state.get("deleting") == model.name:
        confirm_delete(model.name)


def whose(model: SavedModel) -> str:
    if model.ownership.owner is None:
        return "everyone's: made before owners were recorded, or with the command line"
    if visitor().owns(model.ownership):
        return "yours, shared with everyone" if model.ownership.shared else "yours, not shared"
    return "shared with you by its owner"


st.title("Models")
models = [model for model in store.list() if visitor().may_open(model.ownership)]
chosen, default = chosen_model(), store.default_name()
keys = [BUILTIN] + [m.name for m in models]
if chosen.notice:
    st.warning(plain(chosen.notice), icon=":material/warning:")
mine, everyone = st.columns([3, 2], vertical_alignment="bottom")
choice = mine.selectbox(
    "Your model",
    keys,
    index=keys.index(chosen.key),
    format_func=lambda key: BUILTIN_NAME if key == BUILTIN else key,
    help="Classify and Learn use this model for you; others keep theirs. Your browser's address keeps it.",
)
if choice != chosen.key:
    use_model(choice)
    st.rerun()
if choice != (default or BUILTIN) and visitor().may_act_for_everyone():
    if everyone.button(
        "Make it the default for everyone",
        icon=":material/groups:",
        help="The model of everyone on this server who has not chosen one; it must be shared.",
    ):
        try:
            store.set_default(None if choice == BUILTIN else choice)
        except CatbreedError as error:
            st.error(plain(str(error)))
        else:
            st.toast("Now the default for everyone who has not chosen a model.")
            st.rerun()
st.caption(f"Default for everyone on this server who has not chosen: {plain(default or BUILTIN_NAME)}.")

with st.sidebar.expander("Operator", icon=":material/admin_panel_settings:"):
    operator_form()
if not models:
    st.info("No saved models yet. Train one on the Train page; until then the built-in ImageNet model is used.")
    st.stop()

rows = model_rows(models)
table = comparison_frame(rows)
percent = {c: "{:.1%}" for c in RATE_COLUMNS} | {c: "{:.0%}" for c in table if c.startswith(RECALL_PREFIX)}
st.dataframe(table.style.format(percent | {"training s": "{:.1f}"}, na_rep="–"), hide_index=True, width="stretch")
st.caption(
    "Expected accuracy on new photos, by cross-validation, with its 95% interval (from – to); recall per breed: "
    "of its photos, how many the model named right. Click a column to sort."
)
st.altair_chart(charts.expected_accuracies(rows), width="stretch")
if len(models) >= 2:
    compare_two(models)

st.subheader("Each model", anchor=False)
for model in models:
    # The label stays as it is when the model is shared: a new label would be a new, folded expander.
    with st.expander(plain(model.name) + ("  (in use)" if model.name == chosen.key else "")):
        model_details(model)

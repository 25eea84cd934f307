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
from pages.frame.language import TAGS, language, num, pct, said, t
from pages.frame.shared import (
    backbone,
    chosen_model,
    expected_accuracy_text,
    extractor,
    keep_model_choice,
    mode_name,
    operator_form,
    plain,
    visitor,
)

store = ModelStore()
EXPORTS = {  # the code of each choice's words: (format, quantised)
    "models.export.tflite": ("tflite", False),
    "models.export.tflite_quantised": ("tflite", True),
    "models.export.saved_model": ("saved_model", False),
}
COLUMNS = {  # the comparison table's columns (models/compare.py) -> the codes of their words
    "name": "models.column.name",
    "breeds": "models.column.breeds",
    "photos": "models.column.photos",
    "mode": "models.column.mode",
    "backbone": "models.column.backbone",
    "expected accuracy": "models.column.expected",
    "from": "models.column.from",
    "to": "models.column.to",
    "training s": "models.column.seconds",
    "created": "models.column.created",
}


@st.cache_data(show_spinner=False, max_entries=4)
def checked_export(path: str, created: str, choice: str, name: str) -> tuple[bytes, ParityReport]:
    format, quantize = EXPORTS[choice]
    bundle = ModelBundle.load(store.path(name))
    app = Predictor(bundle, extractor(bundle.backbone))
    return export_zip(bundle, format, app, quantize, backbone(bundle.backbone), name)


def confirm_delete(name: str) -> None:
    """Ask once more, in place, before removing a model from disk."""
    st.warning(t("models.confirm_delete", name=plain(name)), icon=":material/delete:")
    yes, no = st.columns(2)
    if yes.button(t("models.delete"), type="primary", key=f"confirm-{name}"):
        store.delete(name)
        st.session_state.pop("deleting", None)
        st.rerun()
    if no.button(t("models.keep"), key=f"keep-{name}"):
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
    st.subheader(t("models.compare"), anchor=False)
    names = [m.name for m in models]
    first_index, second_index = default_pair(models)
    left, right = st.columns(2)
    first = left.selectbox(t("models.first"), names, index=first_index, key="compare-first")
    second = right.selectbox(t("models.second"), names, index=second_index, key="compare-second")
    a, b = (next(m for m in models if m.name == n).metadata for n in (first, second))
    rows = [(d.breed, d.first, d.second, d.change) for d in breed_differences(a, b)]
    columns = [
        t("models.column.breed"),
        t("models.column.recall_of", name=first),
        t("models.column.recall_of", name=second),
    ]
    frame = pd.DataFrame(rows, columns=[*columns, t("models.column.change")])
    frame[frame.columns[1:]] = frame[frame.columns[1:]].astype(float)  # a breed one model lacks: blank, not "None"
    st.dataframe(frame.style.format(lambda v: pct(v, 0), subset=frame.columns[1:], na_rep="–"), hide_index=True)
    st.caption(t("models.recall_caption"))
    disagreements = photo_disagreements(a, b)
    if disagreements is None:
        st.caption(t("models.different_photos"))
    else:
        only_first, only_second = st.columns(2)
        only_first.write(t("models.only_right", name=plain(first), n=len(disagreements.only_first_right)))
        only_first.text("\n".join(disagreements.only_first_right[:20]))
        only_second.write(t("models.only_right", name=plain(second), n=len(disagreements.only_second_right)))
        only_second.text("\n".join(disagreements.only_second_right[:20]))


def show_verdicts(model: SavedModel) -> None:
    """The trade-off the default thresholds make; Classify's sliders move them."""
    metrics = model.metadata.metrics
    if not metrics or not metrics.coverage:
        st.caption(t("models.no_thresholds"))
        return
    for line in verdict_lines(model.metadata, language()):
        st.write(plain(line))
    st.caption(t("models.thresholds_caption"))
    st.altair_chart(charts.coverage(metrics.coverage, metrics.not_sure_below or 0.0, language()), width="stretch")


def export_section(model: SavedModel) -> None:
    choice = st.radio(t("models.export_as"), list(EXPORTS), format_func=t, horizontal=True, key=f"format-{model.name}")
    if st.button(t("models.export_check"), key=f"export-{model.name}"):
        st.session_state[f"exported-{model.name}"] = choice
    chosen = st.session_state.get(f"exported-{model.name}")
    if chosen != choice:
        return
    try:
        with st.spinner(t("models.exporting")):
            data, report = checked_export(str(model.path), model.created, choice, model.name)
    except CatbreedError as error:  # a damaged model: say so here, keep the rest of the page
        st.error(plain(said(error.message)), icon=":material/error:")
        return
    if report.flagged:
        st.error(t("models.export_bad", report=report.describe(language())), icon=":material/error:")
        return
    st.success(t("models.export_good", report=report.describe(language())), icon=":material/verified:")
    st.download_button(
        t("models.download_package"),
        data=data,
        file_name=f"{model.name} {EXPORTS[choice][0]}{' quantised' if EXPORTS[choice][1] else ''}.zip",
        mime="application/zip",
        key=f"package-{model.name}",
        help=t("models.package_help"),
    )


def model_details(model: SavedModel) -> None:
    meta = model.metadata
    st.caption(whose(model))
    accuracy = expected_accuracy_text(model)
    st.write(t("models.details", backbone=plain(meta.backbone), mode=plain(mode_name(meta.mode)), accuracy=accuracy))
    source = meta.data.source if meta.data else None
    learned_from = DatasetStore().get(source.dataset_id) if source else None
    if learned_from and visitor().may_open(learned_from.ownership):
        link = f"train?data={source.dataset_id}&model={quote(chosen.key)}&lang={TAGS[language()]}"
        st.markdown(t("models.learned_from", name=plain(source.name), version=source.version, link=link))
    card, verdicts, export = st.tabs([t("models.card_tab"), t("models.verdicts_tab"), t("models.export_tab")])
    with card:
        st.markdown(model_card(model.name, meta, language()))
    with verdicts:
        show_verdicts(model)
    with export:
        export_section(model)
    download, share, delete = st.columns(3)
    download.download_button(
        t("models.download"),
        data=lambda: store.zip_file(model.name),
        file_name=f"{model.name}.zip",
        mime="application/zip",
        key=f"zip-{model.name}",
        help=t("models.download_help", n=SAMPLE_PHOTOS),
    )
    if not visitor().may_change(model.ownership):
        return
    shared = share.toggle(
        t("models.shared"),
        value=model.ownership.shared or model.ownership.owner is None,
        disabled=model.ownership.owner is None,  # the house's models are everyone's
        key=f"share-{model.name}",
        help=t("models.shared_help"),
    )
    if model.ownership.owner is not None and shared != model.ownership.shared:
        try:
            store.share(model.name, shared)
        except CatbreedError as error:
            st.error(plain(said(error.message)))
        else:
            st.rerun()
    if delete.button(t("models.delete_ask"), key=f"delete-{model.name}"):
        st.session_state.deleting = model.name
    if st.session_state.get("deleting") == model.name:
        confirm_delete(model.name)


def whose(model: SavedModel) -> str:
    if model.ownership.owner is None:
        return t("models.whose.everyone")
    if visitor().owns(model.ownership):
        return t("models.whose.yours_shared") if model.ownership.shared else t("models.whose.yours")
    return t("models.whose.shared_with_you")


st.title(t("models.title"))
models = [model for model in store.list() if visitor().may_open(model.ownership)]
chosen, default = chosen_model(), store.default_name()
keys = [BUILTIN] + [m.name for m in models]
if chosen.notice:
    st.warning(plain(said(chosen.notice)), icon=":material/warning:")
mine, everyone = st.columns([3, 2], vertical_alignment="bottom")
choice = mine.selectbox(
    t("models.your_model"),
    keys,
    index=keys.index(chosen.key),
    format_func=lambda key: t("builtin.name") if key == BUILTIN else key,
    help=t("models.your_model_help"),
)
if choice != chosen.key:
    keep_model_choice(choice)
    st.rerun()
if choice != (default or BUILTIN) and visitor().may_act_for_everyone():
    if everyone.button(
        t("models.make_default"),
        icon=":material/groups:",
        help=t("models.make_default_help"),
    ):
        try:
            store.set_default(None if choice == BUILTIN else choice)
        except CatbreedError as error:
            st.error(plain(said(error.message)))
        else:
            st.toast(t("models.now_default"))
            st.rerun()
st.caption(t("models.default_caption", name=plain(default or t("builtin.name"))))

with st.sidebar.expander(t("models.operator"), icon=":material/admin_panel_settings:"):
    operator_form()
if not models:
    st.info(t("models.none"))
    st.stop()

rows = model_rows(models)
table = comparison_frame(rows)
table["mode"] = table["mode"].map(mode_name)
formats = {c: pct for c in RATE_COLUMNS} | {c: lambda v: pct(v, 0) for c in table if c.startswith(RECALL_PREFIX)}
formats["training s"] = num
shown = {c: t(COLUMNS[c]) if c in COLUMNS else t("models.column.recall", breed=c[len(RECALL_PREFIX) :]) for c in table}
styled = table.rename(columns=shown).style.format({shown[c]: f for c, f in formats.items()}, na_rep="–")
st.dataframe(styled, hide_index=True, width="stretch")
st.caption(t("models.table_caption"))
st.altair_chart(charts.expected_accuracies(rows, language()), width="stretch")
if len(models) >= 2:
    compare_two(models)

st.subheader(t("models.each"), anchor=False)
for model in models:
    # The label stays as it is when the model is shared: a new label would be a new, folded expander.
    with st.expander(plain(model.name) + (t("models.in_use") if model.name == chosen.key else "")):
        model_details(model)

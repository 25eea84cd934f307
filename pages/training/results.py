"""The Train page's last phase: a training's results, the photos it got wrong fixed in place, and
keeping the model."""

import enum
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from catbreed.data.images import thumbnail
from catbreed.data.saved_datasets import SavedDataset
from catbreed.errors import CatbreedError
from catbreed.explain import charts
from catbreed.jobs import TrainingJob
from catbreed.models.card import curve_advice, describe_seconds, verdict_lines
from catbreed.models.store import ModelStore, suggest_name
from catbreed.models.verdict import BREED, headline
from pages.frame.alike import PhotoFinder, show_map, show_nearest
from pages.frame.language import language, num, pct, said, t
from pages.frame.shared import keep_model_choice, plain, visitor, where_it_looked
from pages.training.photos import PHOTOS_SHOWN, act

ROW_PIXELS = 35  # one row of st.dataframe


def show_result(job: TrainingJob, saved: SavedDataset | None) -> None:
    result = job.result
    took = describe_seconds(result.seconds, language())
    st.success(t("results.trained_on", n=result.split.sizes()["train"], time=took), icon=":material/check_circle:")
    a, b, c = st.columns(3)
    estimate = result.estimate
    low, high = pct(estimate.low), pct(estimate.high)
    a.metric(
        t("results.expected"),
        pct(estimate.value),
        help=t("results.expected_help", low=low, high=high, method=estimate.method),
    )
    b.metric(t("results.interval"), t("results.interval_value", low=low, high=high))
    c.metric(t("results.test"), pct(result.test.accuracy) if result.test else t("results.no_test"))
    calibration = result.bundle.metadata.metrics.calibration
    before, after = pct(calibration.ece_before), pct(calibration.ece_after)
    st.caption(
        plain(t("results.calibration", method=estimate.method, before=before, after=after) + " ")
        + " ".join(plain(line) for line in verdict_lines(result.bundle.metadata, language()))
    )
    evaluation = result.evaluation
    table, matrix = st.columns([1, 1])
    with table:
        st.subheader(t("results.per_breed"), anchor=False)
        st.caption(t("results.per_breed_caption"))
        rows = [
            (label, s["precision"], s["recall"], s["f1"], s["support"]) for label, s in evaluation.per_class.items()
        ]
        names = [t(f) for f in ("results.column.breed", "results.column.precision", "results.column.recall")]
        names += [t("results.column.f1"), t("results.column.photos")]
        frame = pd.DataFrame(rows, columns=names)
        breed_pick = st.dataframe(
            frame.style.format(
                {names[1]: lambda v: pct(v, 0), names[2]: lambda v: pct(v, 0), names[3]: lambda v: num(v, 2)},
                na_rep="–",
            ),
            hide_index=True,
            height=ROW_PIXELS * (len(frame) + 1) + 3,  # every breed in view, however many
            on_select="rerun",
            selection_mode="single-row",
            key=f"breeds-{job.id}",
        )
    with matrix:
        st.subheader(t("results.confusion"), anchor=False)
        st.caption(t("results.confusion_caption"))
        # Its own square size: stretched to the column, Streamlit kept its height and squashed the rows.
        cell_pick = st.altair_chart(
            charts.confusion_matrix(evaluation, language()), on_select="rerun", key=f"cells-{job.id}", width="content"
        )
    show_learning_curve(job)
    # On request: the first drawing reads a small copy of every photo on the map (~1 s for 600).
    if job.result.bundle.neighbours is not None and st.toggle(t("results.map"), key=f"show-map-{job.id}"):
        show_map(job.result.bundle, ("training", job.id), training_photos(job), [], key=f"map-{job.id}")
    show_answers(job, saved, chosen_photos(job, breed_pick, cell_pick))
    save_form(job, saved)


def show_learning_curve(job: TrainingJob) -> None:
    """How many photos do I need: the curve, and what it says in words."""
    curve = job.result.bundle.metadata.metrics.learning_curve
    if len(curve) < 2:
        return
    st.subheader(t("results.curve_title"), anchor=False)
    said_now = curve_advice(curve)
    chart, words = st.columns([3, 2])
    with words:
        st.write(plain(said(said_now.model)))
        if said_now.breed is not None:
            st.write(plain(said(said_now.breed)))
        named = [said_now.focus] if said_now.focus else []
        breeds = st.multiselect(
            t("results.curve_breeds"),
            list(curve[-1].recall),
            default=named,
            placeholder=t("results.curve_pick"),
            key=f"curve-breeds-{job.id}",
        )
        st.caption(t("results.curve_caption"))
    with chart:
        st.altair_chart(charts.learning_curve(curve, breeds, language()), width="stretch")


class Look(enum.Enum):
    """Which of a training's photos the results show."""

    MISTAKES = "results.look.mistakes"
    LEAST_SURE = "results.look.least_sure"
    CELL = "results.look.cell"  # with a true and/or a predicted breed


@dataclass(frozen=True)
class Pick:
    look: Look
    true: str | None = None  # None: any breed
    predicted: str | None = None

    def describe(self) -> str:
        if self.look is not Look.CELL:
            return t(self.look.value)
        anyone = t("results.any_breed")
        return t(Look.CELL.value, true=self.true or anyone, predicted=self.predicted or anyone)


def chosen_photos(job: TrainingJob, breed_pick, cell_pick) -> Pick:
    """Which photos to show: a clicked cell, a selected breed, else the pick from the list, which
    stays on the page either way (keyboard-friendly)."""
    evaluation = job.result.evaluation
    options = [Pick(Look.MISTAKES), Pick(Look.LEAST_SURE)] + [
        Pick(Look.CELL, t, p)
        for t, row in zip(evaluation.labels, evaluation.confusion)
        for p, n in zip(evaluation.labels, row)
        if n
    ]
    listed = st.selectbox(t("results.look_at"), options, format_func=Pick.describe, key=f"look-{job.id}")
    if cells := cell_pick.selection.get("cell", []):
        return Pick(Look.CELL, cells[0]["true"], cells[0]["predicted"])
    if breed_pick.selection.rows:
        return Pick(Look.CELL, evaluation.labels[breed_pick.selection.rows[0]])
    return listed


def show_answers(job: TrainingJob, saved: SavedDataset | None, pick: Pick) -> None:
    result = job.result
    if pick.look is Look.LEAST_SURE:
        answers = result.least_sure(PHOTOS_SHOWN)
    elif pick.look is Look.MISTAKES:
        answers = [a for a in result.answers_for() if not a.right][:PHOTOS_SHOWN]
    else:
        answers = result.answers_for(pick.true, pick.predicted)[:PHOTOS_SHOWN]
    title = pick.describe()
    st.subheader(plain(title), anchor=False)
    if not answers:
        st.write(t("results.all_right"))
        return
    if saved is None:
        st.caption(t("results.zip_cannot_change"))
    looked = st.toggle(t("results.show_where"), key=f"looked-{job.id}")
    compared = result.bundle.neighbours is not None and st.toggle(t("results.alike"), key=f"alike-{job.id}")
    paths = {p.name: p.path for p in job.dataset.photos}
    columns = st.columns(4)
    for index, answer in enumerate(answers):
        with columns[index % 4], st.container(border=True):
            photo = paths[answer.path].read_bytes() if paths[answer.path].exists() else None
            if photo is None:
                st.caption(plain(t("results.changed", name=answer.path)))
                continue
            if looked:
                shown = where_it_looked(result.bundle, ("training", job.id), photo, answer.predicted, 200)
            else:
                shown = thumbnail(photo, 200)
            st.image(shown, width="stretch")
            words = t("results.right") if answer.right else t("results.taken_for", breed=answer.predicted)
            if answer.verdict not in (None, BREED):
                words += t("results.but_it_said", headline=said(headline(answer.verdict, answer.predicted)))
            st.caption(
                plain(t("results.caption", name=answer.path, said=words, probability=pct(answer.probability, 0)))
            )
            if compared:
                show_nearest(result.bundle, answer.path, training_photos(job))
            if saved is not None:
                fix_photo(saved, answer.path, index)


def training_photos(job: TrainingJob) -> PhotoFinder:
    """The training's own photos by name, as it read them."""
    paths = {p.name: p.path for p in job.dataset.photos}
    return lambda name: paths[name] if name in paths and paths[name].exists() else None


def fix_photo(saved: SavedDataset, name: str, index: int) -> None:
    """Move the photo to another breed, or remove it: one action each."""
    breed = name.split("/")[0]
    others = [b for b in saved.breeds() if b != breed]
    move_to = st.selectbox(
        t("results.move_to"),
        others,
        index=None,
        placeholder=t("results.move_to_placeholder"),
        key=f"move-{name}-{index}",
        label_visibility="collapsed",
    )
    if move_to:
        act(lambda: saved.move_photo(name, move_to), t("results.moved", name=name, breed=move_to))
    if st.button(t("train.remove"), key=f"remove-{name}-{index}", icon=":material/delete:"):
        act(lambda: saved.remove_photo(name), t("results.removed", name=name))


def save_form(job: TrainingJob, saved: SavedDataset | None) -> None:
    names = st.session_state.get("saved_models", {})
    if job.id in names:
        st.success(t("results.saved_as", name=plain(names[job.id])), icon=":material/save:")
        return
    with st.form(f"save-{job.id}"):
        name = st.text_input(t("results.model_name"), value=suggest_name(job.settings.mode, job.dataset.classes))
        if st.form_submit_button(t("results.save"), type="primary"):
            try:
                model = ModelStore().save(job.result.bundle, name, owner=visitor().identity)
            except CatbreedError as error:
                st.error(plain(said(error.message)))
                return
            keep_model_choice(model.name)
            st.session_state.setdefault("saved_models", {})[job.id] = model.name
            st.rerun()

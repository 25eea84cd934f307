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
from catbreed.models.card import describe_seconds, verdict_lines
from catbreed.models.store import ModelStore, suggest_name
from catbreed.models.verdict import BREED, headline
from pages.frame.shared import plain, use_model, visitor, where_it_looked
from pages.training.photos import PHOTOS_SHOWN, act

ROW_PIXELS = 35  # one row of st.dataframe


def show_result(job: TrainingJob, saved: SavedDataset | None) -> None:
    result = job.result
    st.success(
        f"Trained on {result.split.sizes()['train']} photos in {describe_seconds(result.seconds)}.",
        icon=":material/check_circle:",
    )
    a, b, c = st.columns(3)
    a.metric(
        "Expected accuracy on new photos",
        f"{result.estimate.value:.1%}",
        help=f"95% interval {result.estimate.low:.1%} to {result.estimate.high:.1%}, by {result.estimate.method}.",
    )
    b.metric("95% interval", f"{result.estimate.low:.1%} – {result.estimate.high:.1%}")
    c.metric("Held-out test photos", f"{result.test.accuracy:.1%}" if result.test else "none held out")
    calibration = result.bundle.metadata.metrics.calibration
    st.caption(
        plain(
            f"Estimated by {result.estimate.method}. Probabilities calibrated: calibration error "
            f"{calibration.ece_before:.1%} before, {calibration.ece_after:.1%} after. "
        )
        + " ".join(plain(line) for line in verdict_lines(result.bundle.metadata))
    )
    evaluation = result.evaluation
    table, matrix = st.columns([1, 1])
    with table:
        st.subheader("Per breed", anchor=False)
        st.caption("Each photo scored by a model that had not seen it. Select a breed to see its photos.")
        rows = [
            (label, s["precision"], s["recall"], s["f1"], s["support"]) for label, s in evaluation.per_class.items()
        ]
        frame = pd.DataFrame(rows, columns=["breed", "precision", "recall", "F1", "photos"])
        breed_pick = st.dataframe(
            frame.style.format({"precision": "{:.0%}", "recall": "{:.0%}", "F1": "{:.2f}"}, na_rep="–"),
            hide_index=True,
            height=ROW_PIXELS * (len(frame) + 1) + 3,  # every breed in view, however many
            on_select="rerun",
            selection_mode="single-row",
            key=f"breeds-{job.id}",
        )
    with matrix:
        st.subheader("Confusion matrix", anchor=False)
        st.caption("Click a cell to see its photos.")
        # Its own square size: stretched to the column, Streamlit kept its height and squashed the rows.
        cell_pick = st.altair_chart(
            charts.confusion_matrix(evaluation), on_select="rerun", key=f"cells-{job.id}", width="content"
        )
    show_answers(job, saved, chosen_photos(job, breed_pick, cell_pick))
    save_form(job, saved)


class Look(enum.Enum):
    """Which of a training's photos the results show."""

    MISTAKES = "Photos it got wrong"
    LEAST_SURE = "The photos it was least sure about"
    CELL = "A cell of the confusion matrix"  # with a true and/or a predicted breed


@dataclass(frozen=True)
class Pick:
    look: Look
    true: str | None = None  # None: any breed
    predicted: str | None = None

    def describe(self) -> str:
        if self.look is not Look.CELL:
            return self.look.value
        return f"{self.true or 'any breed'} taken for {self.predicted or 'any breed'}"


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
    listed = st.selectbox("Photos to look at", options, format_func=Pick.describe, key=f"look-{job.id}")
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
        st.write("Every photo was classified right by a model that had not seen it.")
        return
    if saved is None:
        st.caption("Photos from a zip cannot be changed here; start from a data set kept in the app to fix them.")
    looked = st.toggle("Show where it looked", key=f"looked-{job.id}")
    paths = {p.name: p.path for p in job.dataset.photos}
    columns = st.columns(4)
    for index, answer in enumerate(answers):
        with columns[index % 4], st.container(border=True):
            photo = paths[answer.path].read_bytes() if paths[answer.path].exists() else None
            if photo is None:
                st.caption(plain(f"{answer.path}: changed since this training"))
                continue
            if looked:
                shown = where_it_looked(result.bundle, ("training", job.id), photo, answer.predicted, 200)
            else:
                shown = thumbnail(photo, 200)
            st.image(shown, width="stretch")
            said = "right" if answer.right else f"taken for {answer.predicted}"
            if answer.verdict not in (None, BREED):
                said += f", but it said: {headline(answer.verdict, answer.predicted)}"
            st.caption(plain(f"{answer.path}: {said} ({answer.probability:.0%})"))
            if saved is not None:
                fix_photo(saved, answer.path, index)


def fix_photo(saved: SavedDataset, name: str, index: int) -> None:
    """Move the photo to another breed, or remove it: one action each."""
    breed = name.split("/")[0]
    others = [b for b in saved.breeds() if b != breed]
    move_to = st.selectbox(
        "Move to", others, index=None, placeholder="Move to…", key=f"move-{name}-{index}", label_visibility="collapsed"
    )
    if move_to:
        act(lambda: saved.move_photo(name, move_to), f"Moved {name} to {move_to}.")
    if st.button("Remove", key=f"remove-{name}-{index}", icon=":material/delete:"):
        act(lambda: saved.remove_photo(name), f"Removed {name} from the data set.")


def save_form(job: TrainingJob, saved: SavedDataset | None) -> None:
    names = st.session_state.get("saved_models", {})
    if job.id in names:
        st.success(f"Saved as “{plain(names[job.id])}”: now your model on the Classify page.", icon=":material/save:")
        return
    with st.form(f"save-{job.id}"):
        name = st.text_input("Model name", value=suggest_name(job.settings.mode, job.dataset.classes))
        if st.form_submit_button("Save and use this model", type="primary"):
            try:
                model = ModelStore().save(job.result.bundle, name, owner=visitor().identity)
            except CatbreedError as error:
                st.error(plain(str(error)))
                return
            use_model(model.name)
            st.session_state.setdefault("saved_models", {})[job.id] = model.name
            st.rerun()

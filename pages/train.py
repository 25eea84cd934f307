import enum
import time
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from catbreed.data.dataset import MIN_PHOTOS_PER_CLASS, Dataset
from catbreed.data.images import ImageProblem, thumbnail
from catbreed.data.saved_datasets import DatasetStore, SavedDataset
from catbreed.errors import CatbreedError
from catbreed.explain import charts
from catbreed.jobs import CANCELLED, DONE, FAILED, FINISHED, QUEUED, TrainingJob
from catbreed.learn.settings import MODE_TABLE, MODES, TrainSettings
from catbreed.models.card import describe_seconds, verdict_lines
from catbreed.models.metadata import DataSource
from catbreed.models.store import ModelStore, suggest_name
from catbreed.models.verdict import BREED, headline
from pages.frame.shared import chosen_model, job_manager, plain, use_model, visitor, where_it_looked

THUMBNAILS_PER_BREED = 4
PHOTOS_SHOWN = 12
ROW_PIXELS = 35  # one row of st.dataframe
PHOTO_TYPES = ("jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff")


def describe(event) -> str:
    return event.describe() + (f" · about {event.eta_seconds:.0f}s left" if event.eta_seconds is not None else "")


def show_thumbnails(dataset: Dataset) -> None:
    columns = st.columns(2)
    for index, label in enumerate(dataset.classes):
        photos = [p for p in dataset.photos if p.label == label][:THUMBNAILS_PER_BREED]
        with columns[index % 2]:
            st.text(f"{label} ({dataset.counts[label]})")
            try:
                st.image([thumbnail(p.path, 120) for p in photos], width=96)
            except ImageProblem:
                st.caption("(preview unavailable)")


def show_report(dataset: Dataset) -> None:
    st.subheader("Your photos", anchor=False)
    a, b, c, d = st.columns(4)
    a.metric("Breeds", len(dataset.classes))
    b.metric("Photos", len(dataset.photos))
    c.metric("Skipped", len(dataset.skipped))
    d.metric("Duplicates", len(dataset.duplicates))
    for warning in dataset.warnings:
        st.warning(plain(warning), icon=":material/warning:")
    chart, previews = st.columns([2, 3])
    with chart:
        st.altair_chart(charts.photo_counts(dataset.counts), width="stretch")
    with previews:
        show_thumbnails(dataset)
    if dataset.skipped:
        with st.expander(f"{len(dataset.skipped)} skipped files and why"):
            st.dataframe(pd.DataFrame([(s.name, s.reason) for s in dataset.skipped], columns=["file", "reason"]))
    if dataset.duplicates:
        with st.expander(f"{len(dataset.duplicates)} exact duplicates, kept once"):
            rows = [(d.name, d.kept) for d in dataset.duplicates]
            st.dataframe(pd.DataFrame(rows, columns=["duplicate", "copy kept"]))


def about(seconds: float) -> str:
    if seconds < 5:
        return "a few seconds"
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"


def settings_form(dataset: Dataset) -> TrainSettings | None:
    defaults = TrainSettings()
    with st.form("settings"):
        st.subheader("Settings", anchor=False)
        times = {m: about(manager.expected_time(dataset, TrainSettings(mode=m)).total) for m in MODES}
        mode = st.radio(
            "Mode",
            MODES,
            index=MODES.index(defaults.mode),
            captions=[f"{MODE_TABLE[m].summary}. Here: {times[m]}." for m in MODES],
            help="Both learn from every photo and estimate their accuracy on new photos by cross-validation.",
        )
        test_percent = st.slider(
            "Hold out for a final test %", 0, 40, int(defaults.test_percent), help=TrainSettings.help("test_percent")
        )
        if not st.form_submit_button("Train", type="primary"):
            return None
    try:
        return TrainSettings(mode=mode, test_percent=test_percent)
    except CatbreedError as error:
        st.error(plain(str(error)))
        return None


@st.fragment(run_every=1.0)
def live_progress(job: TrainingJob) -> None:
    if job.state in FINISHED:
        st.rerun()  # the whole page now shows the result
    latest = job.latest
    if job.state == QUEUED:
        ahead, wait = job_manager().position(job), job_manager().wait_seconds(job)
        st.info(
            f"Waiting for {ahead} training{'' if ahead == 1 else 's'} before yours"
            + (f", {about(wait)}…" if wait is not None else "…"),
            icon=":material/hourglass_top:",
        )
    else:
        left = job.seconds_left()
        step = latest.describe() if latest else "Starting"
        pace = f" · {about(left)} left" if left is not None else " · measuring the pace…"
        st.progress(min(latest.fraction, 1.0) if latest else 0.0, text=step + pace)
    if job.folds:
        st.altair_chart(charts.fold_accuracies(job.folds))
    if st.button("Cancel training", key=f"cancel-{job.id}"):
        job.cancel()
        st.toast("Cancelling…")


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


def act(change, message: str) -> None:
    try:
        change()
    except CatbreedError as error:
        st.error(plain(str(error)))
        return
    st.toast(plain(message))
    st.rerun()


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


def choose_data() -> SavedDataset | None:
    """Where the photos come from: a zip, nothing yet, or a data set kept here."""
    from_zip, from_nothing, from_saved = st.tabs(["Upload a zip", "Start from nothing", "A data set kept here"])
    with from_zip:
        upload = st.file_uploader("A .zip with one folder of photos per breed", type="zip", key="upload")
        st.caption(
            "Each folder name becomes a breed: e.g. `Siamese/…jpg`, `Bengal/…jpg`. JPEG, PNG, GIF, WebP, BMP and TIFF all work."
        )
        if upload is not None:
            bar = st.progress(0.0, text="Unpacking…")
            try:
                return datasets.from_upload(
                    upload, on_event=lambda e: bar.progress(e.fraction, text=describe(e)), owner=visitor().identity
                )
            except CatbreedError as error:
                bar.empty()
                st.error(plain(str(error)))
    with from_nothing, st.form("new-data-set"):
        name = st.text_input("Name of the new data set", value="my cats")
        if st.form_submit_button("Create it"):
            try:
                return datasets.create(name, owner=visitor().identity)
            except CatbreedError as error:
                st.error(plain(str(error)))
    with from_saved:
        kept = {saved.id: saved for saved in datasets.list() if visitor().may_open(saved.ownership)}
        if not kept:
            st.caption("No data sets kept yet.")
        else:
            # Widgets keep their options in the session, which must pickle: ids, not data set objects.
            pick = st.selectbox("Data set", kept, format_func=lambda i: describe_data_set(kept[i]), key="pick-data-set")
            if st.button("Open it"):
                return kept[pick]
    return None


def describe_data_set(saved: SavedDataset) -> str:
    counts = saved.counts()
    whose = "" if visitor().owns(saved.ownership) else ", shared with you"
    return f"{saved.name}: {len(counts)} breeds, {sum(counts.values())} photos (version {saved.version}{whose})"


def edit_data_set(saved: SavedDataset) -> None:
    """Add breeds and photos (webcam snapshots or uploads), remove photos, share it; download it as a zip."""
    with st.container(border=True):
        if not visitor().may_change(saved.ownership):
            st.caption(
                "Someone shared this data set with you: you may train on it and download it; only they change it."
            )
            download_data_set(saved)
            return
        st.caption(f"Version {saved.version}: every change here is kept at once, on this server.")
        shared = st.toggle(
            "Share it with everyone on this server",
            value=saved.ownership.shared,
            help="They may then open it, train on it and download it by its link; only you change it.",
        )
        if shared != saved.ownership.shared:
            saved.share(shared)
        with st.form("add-breed", clear_on_submit=True):
            new_breed = st.text_input("Add a breed", placeholder="e.g. Siamese")
            if st.form_submit_button("Add breed") and new_breed:
                act(lambda: saved.add_breed(new_breed), f"Added the breed {new_breed}.")
        breeds = saved.breeds()
        if not breeds:
            st.caption("Add at least two breeds, then photos of each.")
            return
        breed = st.selectbox("Add photos to", breeds, key="add-to")
        camera, files = st.columns(2)
        # The webcam only on request: opening it asks the browser for the camera and streams video.
        use_camera = camera.toggle("Use the webcam", key="data-camera")
        # One camera and one uploader per breed: switching breeds starts from an empty one.
        snapshot = camera.camera_input("Snap a photo", key=f"data-snapshot-{breed}") if use_camera else None
        uploads = files.file_uploader(
            "Or upload photos", type=list(PHOTO_TYPES), accept_multiple_files=True, key=f"data-photos-{breed}"
        )
        added = st.session_state.setdefault("added_files", set())
        for file in ([snapshot] if snapshot else []) + list(uploads or []):
            if file.file_id in added:
                continue  # a rerun shows the same file again; it was kept already
            added.add(file.file_id)
            name = f"snapshot {time.strftime('%H%M%S')}.jpg" if file is snapshot else file.name
            try:
                saved.add_photo(breed, file.getvalue(), name)
            except CatbreedError as error:
                st.error(plain(str(error)))
        counts = saved.counts()
        st.write(" · ".join(f"{plain(b)}: {n}" for b, n in counts.items()))
        browse = st.selectbox("Look at the photos of", breeds, key="browse")
        photos = saved.photos(browse)
        columns = st.columns(6)
        for index, photo in enumerate(photos[:PHOTOS_SHOWN]):
            with columns[index % 6]:
                st.image(thumbnail(photo.path, 120), width="stretch")
                if st.button("Remove", key=f"drop-{photo.name}", icon=":material/delete:"):
                    act(lambda photo=photo: saved.remove_photo(photo.name), f"Removed {photo.name}.")
        if len(photos) > PHOTOS_SHOWN:
            st.caption(f"…and {len(photos) - PHOTOS_SHOWN} more.")
        download_data_set(saved)


def download_data_set(saved: SavedDataset) -> None:
    st.download_button(
        "Download the data set (.zip)",
        data=saved.zip_bytes,
        file_name=f"{saved.name}.zip",
        mime="application/zip",
        help="One folder per breed: the layout this page and `python -m catbreed train` read.",
    )


def prepare_training(saved: SavedDataset, job: TrainingJob | None) -> None:
    """The data set, its report and the settings: the steps before a training."""
    top, leave = st.columns([4, 1])
    top.subheader(plain(f"Data set: {saved.name}"), anchor=False)
    if leave.button("Use other photos"):
        for param in ("data", "job"):
            st.query_params.pop(param, None)
        st.rerun()
    # While a training is shown above, the editor folds away: the page leads with what is happening.
    title = "Add or remove breeds and photos" if visitor().may_change(saved.ownership) else "Download the photos"
    with st.expander(title, expanded=job is None, icon=":material/edit:"):
        edit_data_set(saved)
    counts = saved.counts()
    if sum(n >= MIN_PHOTOS_PER_CLASS for n in counts.values()) < 2:
        st.info(
            f"Add at least two breeds with at least {MIN_PHOTOS_PER_CLASS} photos each; the report on the photos "
            "and the training appear here then.",
            icon=":material/info:",
        )
        return
    try:
        dataset = saved.check()
    except CatbreedError as error:
        st.info(plain(str(error)), icon=":material/info:")
        return
    show_report(dataset)
    if job is not None and job.state not in FINISHED:
        st.info("A training of yours is running above; start another when it ends.")
        return
    if job is not None and job.source is not None and job.source.version != saved.version:
        st.info(
            f"The data set changed since the training above (version {job.source.version} → {saved.version}). "
            "Train again: features are cached, so only new photos take time.",
            icon=":material/refresh:",
        )
    if settings := settings_form(dataset):
        job = manager.submit(dataset, settings, DataSource(saved.id, saved.version, saved.name), visitor().identity)
        st.query_params["job"] = job.id
        st.rerun()


def show_training(job: TrainingJob, saved: SavedDataset | None) -> None:
    st.header("Training", anchor=False)
    if job.state == DONE:
        fixable = saved and job.source and job.source.dataset_id == saved.id and visitor().may_change(saved.ownership)
        show_result(job, saved if fixable else None)
    elif job.state == FAILED:
        st.error(plain(job.error))
    elif job.state == CANCELLED:
        st.info("Training was cancelled; nothing was saved.")
    else:
        live_progress(job)


st.title("Train")
st.caption(
    "Collect photos of the breeds to tell apart (a zip, or photo by photo with the webcam); a CNN pretrained on "
    "ImageNet learns them, and cross-validation tells you how often it will be right on photos it has never seen."
)
chosen_model()  # keeps this person's model in the address while they train
manager, datasets = job_manager(), DatasetStore()
# The URL keeps the job and the data set, so a reload finds both; a link to someone else's is no link.
job = manager.get(st.query_params.get("job"))
job = job if job and (job.owner == visitor().identity or visitor().admin) else None
saved = datasets.get(st.query_params.get("data") or (job.source.dataset_id if job and job.source else None))
saved = saved if saved and visitor().may_open(saved.ownership) else None
if st.query_params.get("job") and job is None:
    st.warning(
        "That training is not on this server: finished trainings are kept for a while, and none survive a "
        "restart; one started by someone else is theirs. Train again; features are cached, so it is quicker "
        "the second time.",
        icon=":material/history:",
    )
if st.query_params.get("data") and saved is None:
    st.warning(
        "That data set is not here (deleted, or not shared with you). Choose or make one below.",
        icon=":material/folder_off:",
    )

if job is not None:  # first: a reload during a training finds its progress, not the photos
    show_training(job, saved)
    st.divider()
if saved is None:
    if picked := choose_data():
        st.query_params["data"] = picked.id
        st.rerun()
else:
    prepare_training(saved, job)

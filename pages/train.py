import pandas as pd
import streamlit as st

from catbreed.data.dataset import Dataset, open_uploaded_archive, replace_upload
from catbreed.data.images import ImageProblem, thumbnail
from catbreed.errors import CatbreedError
from catbreed.explain import charts
from catbreed.jobs import CANCELLED, DONE, FAILED, FINISHED, QUEUED, TrainingJob
from catbreed.learn.settings import MODE_TABLE, MODES, TrainSettings
from catbreed.learn.training import expected_seconds
from catbreed.models.store import ModelStore, suggest_name
from pages.shared import job_manager, plain, run_inside_navigation

run_inside_navigation()

THUMBNAILS_PER_BREED = 4
MISTAKES_SHOWN = 12
ROW_PIXELS = 35  # one row of st.dataframe


def describe(event) -> str:
    eta = f" · about {event.eta_seconds:.0f}s left" if event.eta_seconds is not None else ""
    return f"{event.stage.capitalize()}: {event.step} of {event.total}{eta}"


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
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"


def settings_form(dataset: Dataset) -> TrainSettings | None:
    defaults = TrainSettings()
    with st.form("settings"):
        st.subheader("Settings", anchor=False)
        times = {m: about(expected_seconds(dataset, TrainSettings(mode=m))) for m in MODES}
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
        st.info(
            f"Waiting for {job_manager().position(job)} other training(s) to finish…", icon=":material/hourglass_top:"
        )
    elif latest is None:
        st.progress(0.0, text="Starting…")
    else:
        st.progress(min(latest.fraction, 1.0), text=describe(latest))
    if job.folds:
        st.altair_chart(charts.fold_accuracies(job.folds))
    if st.button("Cancel training", key=f"cancel-{job.id}"):
        job.cancel()
        st.toast("Cancelling…")


def show_result(job: TrainingJob) -> None:
    result = job.result
    st.success(
        f"Trained on {result.split.sizes()['train']} photos in {result.seconds:.0f} s.", icon=":material/check_circle:"
    )
    calibration = result.bundle.metadata.metrics.calibration
    a, b, c = st.columns(3)
    a.metric(
        "Expected accuracy on new photos",
        f"{result.estimate.value:.1%}",
        help=f"95% interval {result.estimate.low:.1%} to {result.estimate.high:.1%}, by {result.estimate.method}.",
    )
    b.metric("95% interval", f"{result.estimate.low:.1%} – {result.estimate.high:.1%}")
    c.metric("Held-out test photos", f"{result.test.accuracy:.1%}" if result.test else "none held out")
    st.caption(
        plain(
            f"Estimated by {result.estimate.method}. Probabilities calibrated: calibration error "
            f"{calibration.ece_before:.1%} before, {calibration.ece_after:.1%} after."
        )
    )
    evaluation = result.evaluation
    table, matrix = st.columns([1, 1])
    with table:
        st.subheader("Per breed", anchor=False)
        st.caption("Each photo scored by a model that had not seen it.")
        rows = [
            (label, s["precision"], s["recall"], s["f1"], s["support"]) for label, s in evaluation.per_class.items()
        ]
        frame = pd.DataFrame(rows, columns=["breed", "precision", "recall", "F1", "photos"])
        st.dataframe(
            frame.style.format({"precision": "{:.0%}", "recall": "{:.0%}", "F1": "{:.2f}"}, na_rep="–"),
            hide_index=True,
            height=ROW_PIXELS * (len(frame) + 1) + 3,  # every breed in view, however many
        )
    with matrix:
        st.subheader("Confusion matrix", anchor=False)
        st.altair_chart(charts.confusion_matrix(evaluation))
    show_mistakes(job)
    save_form(job)


def show_mistakes(job: TrainingJob) -> None:
    mistakes = job.result.evaluation.misclassified[:MISTAKES_SHOWN]
    if not mistakes:
        st.write("Every photo was classified right by a model that had not seen it.")
        return
    st.subheader("Photos it got wrong", anchor=False)
    paths = {p.name: p.path for p in job.dataset.photos}
    columns = st.columns(6)
    for index, mistake in enumerate(mistakes):
        with columns[index % 6]:
            st.image(thumbnail(paths[mistake.path], 200), width="stretch")
            st.caption(plain(f"{mistake.true} taken for {mistake.predicted} ({mistake.probability:.0%})"))


def save_form(job: TrainingJob) -> None:
    saved = st.session_state.get("saved_models", {})
    if job.id in saved:
        st.success(f"Saved as “{plain(saved[job.id])}” and now in use on the Classify page.", icon=":material/save:")
        return
    with st.form("save"):
        name = st.text_input("Model name", value=suggest_name(job.settings.mode, job.dataset.classes))
        if st.form_submit_button("Save and use this model", type="primary"):
            store = ModelStore()
            try:
                model = store.save(job.result.bundle, name)
                store.set_active(model.name)
            except CatbreedError as error:
                st.error(plain(str(error)))
                return
            st.session_state.setdefault("saved_models", {})[job.id] = model.name
            st.rerun()


st.title("Train")
st.caption(
    "Upload photos of the breeds to tell apart; a CNN pretrained on ImageNet learns them, and cross-validation "
    "tells you how often it will be right on photos it has never seen."
)
manager = job_manager()
job = manager.get(st.session_state.get("job_id") or st.query_params.get("job"))

upload = st.file_uploader("A .zip with one folder of photos per breed", type="zip", key="upload")
if upload is not None and st.session_state.get("dataset_for") != upload.file_id:
    bar = st.progress(0.0, text="Unpacking…")
    try:
        dataset = open_uploaded_archive(upload, on_event=lambda e: bar.progress(e.fraction, text=describe(e)))
    except CatbreedError as error:
        bar.empty()
        st.error(plain(str(error)))
        st.stop()
    bar.empty()
    st.session_state.dataset = replace_upload(st.session_state.get("dataset"), dataset, job and job.dataset)
    st.session_state.dataset_for = upload.file_id

dataset = st.session_state.get("dataset") if upload is not None else None
if dataset is not None:
    show_report(dataset)
    busy = job is not None and job.state not in FINISHED
    if busy:
        st.info("A training of yours is running below; start another when it ends.")
    elif settings := settings_form(dataset):
        job = manager.submit(dataset, settings)
        st.session_state.job_id = job.id
        st.query_params["job"] = job.id
        st.rerun()
elif job is None:
    st.info(
        "Each folder name becomes a breed: e.g. `Siamese/…jpg`, `Bengal/…jpg`. JPEG, PNG, GIF, WebP, BMP and TIFF all work."
    )

if job is not None:
    st.divider()
    st.header("Training", anchor=False)
    if job.state == DONE:
        show_result(job)
    elif job.state == FAILED:
        st.error(plain(job.error))
    elif job.state == CANCELLED:
        st.info("Training was cancelled; nothing was saved.")
    else:
        live_progress(job)

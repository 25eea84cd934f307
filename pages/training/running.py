"""The Train page's second phase: the settings, with honest times, and a training's live progress."""

import streamlit as st

from catbreed.data.dataset import Dataset
from catbreed.errors import CatbreedError
from catbreed.explain import charts
from catbreed.jobs import FINISHED, QUEUED, TrainingJob
from catbreed.learn.settings import MODE_TABLE, MODES, TrainSettings
from pages.frame.shared import job_manager, plain


def about(seconds: float) -> str:
    if seconds < 5:
        return "a few seconds"
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"


def settings_form(dataset: Dataset) -> TrainSettings | None:
    defaults = TrainSettings()
    with st.form("settings"):
        st.subheader("Settings", anchor=False)
        times = {m: about(job_manager().expected_time(dataset, TrainSettings(mode=m)).total) for m in MODES}
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

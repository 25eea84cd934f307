"""The Train page's second phase: the settings, with honest times, and a training's live progress."""

import streamlit as st

from catbreed.data.dataset import Dataset
from catbreed.errors import CatbreedError
from catbreed.explain import charts
from catbreed.jobs import FINISHED, QUEUED, TrainingJob
from catbreed.learn.settings import MODE_TABLE, MODES, TrainSettings
from pages.frame.language import language, said, t
from pages.frame.shared import job_manager, mode_name, plain


def about(seconds: float) -> str:
    if seconds < 5:
        return t("train.a_few_seconds")
    return (
        t("train.about_seconds", n=round(seconds)) if seconds < 90 else t("train.about_minutes", n=round(seconds / 60))
    )


def settings_form(dataset: Dataset) -> TrainSettings | None:
    defaults = TrainSettings()
    with st.form("settings"):
        st.subheader(t("train.settings"), anchor=False)
        times = {m: about(job_manager().expected_time(dataset, TrainSettings(mode=m)).total) for m in MODES}
        mode = st.radio(
            t("train.mode"),
            MODES,
            index=MODES.index(defaults.mode),
            format_func=mode_name,
            captions=[t("train.mode_caption", summary=t(MODE_TABLE[m].summary), time=times[m]) for m in MODES],
            help=t("train.mode_help"),
        )
        test_percent = st.slider(
            t("train.hold_out"), 0, 40, int(defaults.test_percent), help=TrainSettings.help("test_percent", language())
        )
        if not st.form_submit_button(t("train.train"), type="primary"):
            return None
    try:
        return TrainSettings(mode=mode, test_percent=test_percent)
    except CatbreedError as error:
        st.error(plain(said(error.message)))
        return None


@st.fragment(run_every=1.0)
def live_progress(job: TrainingJob) -> None:
    if job.state in FINISHED:
        st.rerun()  # the whole page now shows the result
    latest = job.latest
    if job.state == QUEUED:
        ahead, wait = job_manager().position(job), job_manager().wait_seconds(job)
        waiting = t("train.wait_time", time=about(wait)) if wait is not None else ""
        st.info(t("train.waiting", n=ahead, wait=waiting), icon=":material/hourglass_top:")
    else:
        left = job.seconds_left()
        step = latest.describe(language()) if latest else t("train.starting")
        pace = t("train.left", time=about(left)) if left is not None else t("train.measuring")
        st.progress(min(latest.fraction, 1.0) if latest else 0.0, text=step + pace)
    if job.folds:
        st.altair_chart(charts.fold_accuracies(job.folds, language()))
    if st.button(t("train.cancel"), key=f"cancel-{job.id}"):
        job.cancel()
        st.toast(t("train.cancelling"))

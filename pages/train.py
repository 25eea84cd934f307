"""Train: photos in, a model out, each phase in a module of its own (pages/training/): the photos
and their report, the settings and the progress, the results and the fixes."""

import streamlit as st

from catbreed.data.dataset import MIN_PHOTOS_PER_CLASS
from catbreed.data.saved_datasets import DatasetStore, SavedDataset
from catbreed.errors import CatbreedError
from catbreed.jobs import CANCELLED, DONE, FAILED, FINISHED, TrainingJob
from catbreed.models.metadata import DataSource
from pages.frame.language import said, t
from pages.frame.shared import chosen_model, job_manager, plain, visitor
from pages.training.photos import choose_data, edit_data_set, show_report
from pages.training.results import show_result
from pages.training.running import live_progress, settings_form


def prepare_training(saved: SavedDataset, job: TrainingJob | None) -> None:
    """The data set, its report and the settings: the steps before a training."""
    top, leave = st.columns([4, 1])
    top.subheader(plain(t("train.data_set", name=saved.name)), anchor=False)
    if leave.button(t("train.other_photos")):
        for param in ("data", "job"):
            st.query_params.pop(param, None)
        st.rerun()
    # While a training is shown above, the editor folds away: the page leads with what is happening.
    title = t("train.edit") if visitor().may_change(saved.ownership) else t("train.download_only")
    with st.expander(title, expanded=job is None, icon=":material/edit:"):
        edit_data_set(saved)
    counts = saved.counts()
    if sum(n >= MIN_PHOTOS_PER_CLASS for n in counts.values()) < 2:
        st.info(t("train.need_two_breeds", minimum=MIN_PHOTOS_PER_CLASS), icon=":material/info:")
        return
    try:
        dataset = saved.check()
    except CatbreedError as error:
        st.info(plain(said(error.message)), icon=":material/info:")
        return
    show_report(dataset)
    if job is not None and job.state not in FINISHED:
        st.info(t("train.running_above"))
        return
    if job is not None and job.source is not None and job.source.version != saved.version:
        st.info(t("train.data_changed", before=job.source.version, now=saved.version), icon=":material/refresh:")
    if settings := settings_form(dataset):
        try:
            job = job_manager().submit(
                dataset, settings, DataSource(saved.id, saved.version, saved.name), visitor().identity
            )
        except CatbreedError as error:  # this person's waiting trainings at the server's limit
            st.error(plain(said(error.message)), icon=":material/hourglass_top:")
            return
        st.query_params["job"] = job.id
        st.rerun()


def show_training(job: TrainingJob, saved: SavedDataset | None) -> None:
    st.header(t("train.training"), anchor=False)
    if job.state == DONE:
        fixable = saved and job.source and job.source.dataset_id == saved.id and visitor().may_change(saved.ownership)
        show_result(job, saved if fixable else None)
    elif job.state == FAILED:
        st.error(plain(said(job.error)))
    elif job.state == CANCELLED:
        st.info(t("train.cancelled"))
    else:
        live_progress(job)


st.title(t("train.title"))
st.caption(t("train.intro"))
chosen_model()  # keeps this person's model in the address while they train
# The URL keeps the job and the data set, so a reload finds both; a link to someone else's is no link.
job = job_manager().get(st.query_params.get("job"))
job = job if job and (job.owner == visitor().identity or visitor().admin) else None
saved = DatasetStore().get(st.query_params.get("data") or (job.source.dataset_id if job and job.source else None))
saved = saved if saved and visitor().may_open(saved.ownership) else None
if st.query_params.get("job") and job is None:
    st.warning(t("train.job_gone"), icon=":material/history:")
if st.query_params.get("data") and saved is None:
    st.warning(t("train.data_gone"), icon=":material/folder_off:")

if job is not None:  # first: a reload during a training finds its progress, not the photos
    show_training(job, saved)
    st.divider()
if saved is None:
    if picked := choose_data():
        st.query_params["data"] = picked.id
        st.rerun()
else:
    prepare_training(saved, job)

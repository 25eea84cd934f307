"""The Train page's first phase: where the photos come from, the data set kept here and its editor,
and the report on the photos. A module of the page, outside pages/ itself, where Streamlit's old
pages-folder mode would list it as a page."""

import time

import pandas as pd
import streamlit as st

from catbreed.data.dataset import Dataset
from catbreed.data.saved_datasets import DatasetStore, SavedDataset
from catbreed.errors import CatbreedError
from catbreed.explain import charts
from pages.frame.language import language, said, t
from pages.frame.shared import photo_uploader, plain, small_copy, visitor
from pages.training.recording import record_photos

THUMBNAILS_PER_BREED = 4
PHOTOS_SHOWN = 12
SNAPSHOTS, RECORDING = "train.camera_snapshots", "train.camera_record"
CAMERA_WAYS = (SNAPSHOTS, RECORDING)  # codes of the words, as the radio's options


def describe(event) -> str:
    eta = t("train.eta", seconds=round(event.eta_seconds)) if event.eta_seconds is not None else ""
    return event.describe(language()) + eta


def show_thumbnails(dataset: Dataset) -> None:
    columns = st.columns(2)
    for index, label in enumerate(dataset.classes):
        photos = [p for p in dataset.photos if p.label == label][:THUMBNAILS_PER_BREED]
        with columns[index % 2]:
            st.text(t("train.breed_count", breed=label, n=dataset.counts[label]))
            pictures = [small_copy(p.path) for p in photos]
            if pictures and None not in pictures:
                st.image(pictures, width=96)
            elif pictures:
                st.caption(t("train.no_preview"))


def show_report(dataset: Dataset) -> None:
    st.subheader(t("train.your_photos"), anchor=False)
    a, b, c, d = st.columns(4)
    a.metric(t("train.breeds"), len(dataset.classes))
    b.metric(t("train.photos"), len(dataset.photos))
    c.metric(t("train.skipped"), len(dataset.skipped))
    d.metric(t("train.duplicates"), len(dataset.duplicates))
    for warning in dataset.warnings:
        st.warning(plain(said(warning)), icon=":material/warning:")
    chart, previews = st.columns([2, 3])
    with chart:
        st.altair_chart(charts.photo_counts(dataset.counts, language()), width="stretch")
    with previews:
        show_thumbnails(dataset)
    if dataset.skipped:
        with st.expander(t("train.skipped_files", n=len(dataset.skipped))):
            rows = [(s.name, said(s.reason)) for s in dataset.skipped]
            st.dataframe(pd.DataFrame(rows, columns=[t("train.column.file"), t("train.column.reason")]))
    if dataset.duplicates:
        with st.expander(t("train.exact_duplicates", n=len(dataset.duplicates))):
            rows = [(d.name, d.kept) for d in dataset.duplicates]
            st.dataframe(pd.DataFrame(rows, columns=[t("train.column.duplicate"), t("train.column.kept")]))


def act(change, message: str) -> None:
    try:
        change()
    except CatbreedError as error:
        st.error(plain(said(error.message)))
        return
    st.toast(plain(message))
    st.rerun()


def choose_data() -> SavedDataset | None:
    """Where the photos come from: a zip, nothing yet, or a data set kept here."""
    from_zip, from_nothing, from_saved = st.tabs([t("train.upload_tab"), t("train.nothing_tab"), t("train.kept_tab")])
    with from_zip:
        upload = st.file_uploader(t("train.zip_label"), type="zip", key="upload")
        st.caption(t("train.zip_caption"))
        if upload is not None:
            bar = st.progress(0.0, text=t("train.unpacking"))
            try:
                return DatasetStore().from_upload(
                    upload, on_event=lambda e: bar.progress(e.fraction, text=describe(e)), owner=visitor().identity
                )
            except CatbreedError as error:
                bar.empty()
                st.error(plain(said(error.message)))
    with from_nothing, st.form("new-data-set"):
        name = st.text_input(t("train.new_name"), value=t("train.new_name_default"))
        if st.form_submit_button(t("train.create")):
            try:
                return DatasetStore().create(name, owner=visitor().identity)
            except CatbreedError as error:
                st.error(plain(said(error.message)))
    with from_saved:
        kept = {saved.id: saved for saved in DatasetStore().list() if visitor().may_open(saved.ownership)}
        if not kept:
            st.caption(t("train.none_kept"))
        else:
            # Widgets keep their options in the session, which must pickle: ids, not data set objects.
            pick = st.selectbox(
                t("train.pick"), kept, format_func=lambda i: describe_data_set(kept[i]), key="pick-data-set"
            )
            if st.button(t("train.open")):
                return kept[pick]
    return None


def describe_data_set(saved: SavedDataset) -> str:
    counts = saved.counts()
    whose = "" if visitor().owns(saved.ownership) else t("train.shared_with_you")
    return t(
        "train.describe_data_set",
        name=saved.name,
        breeds=len(counts),
        n=sum(counts.values()),
        version=saved.version,
        whose=whose,
    )


def edit_data_set(saved: SavedDataset) -> None:
    """Add breeds and photos (webcam snapshots or uploads), remove photos, share it; download it as a zip."""
    with st.container(border=True):
        if not visitor().may_change(saved.ownership):
            st.caption(t("train.shared_caption"))
            download_data_set(saved)
            return
        st.caption(t("train.version_caption", version=saved.version))
        shared = st.toggle(t("train.share"), value=saved.ownership.shared, help=t("train.share_help"))
        if shared != saved.ownership.shared:
            saved.share(shared)
        with st.form("add-breed", clear_on_submit=True):
            new_breed = st.text_input(t("train.add_breed"), placeholder=t("train.add_breed_placeholder"))
            if st.form_submit_button(t("train.add_breed_button")) and new_breed:
                act(lambda: saved.add_breed(new_breed), t("train.added_breed", breed=new_breed))
        breeds = saved.breeds()
        if not breeds:
            st.caption(t("train.add_two_breeds"))
            return
        breed = st.selectbox(t("train.add_to"), breeds, key="add-to")
        camera, files = st.columns(2)
        snapshot = None
        # The webcam only on request: opening it asks the browser for the camera and streams video.
        if camera.toggle(t("train.use_webcam"), key="data-camera"):
            with camera:
                how = st.radio(
                    t("train.camera_how"),
                    CAMERA_WAYS,
                    format_func=lambda way: t(way),
                    horizontal=True,
                    key="camera-how",
                )
                if how == SNAPSHOTS:  # one camera per breed: switching breeds starts from an empty one
                    snapshot = st.camera_input(t("train.snap"), key=f"data-snapshot-{breed}")
                else:
                    record_photos(saved, breed)
        uploads = photo_uploader(files, t("train.upload_photos"), key=f"data-photos-{breed}", several=True)
        added = st.session_state.setdefault("added_files", set())
        for file in ([snapshot] if snapshot else []) + list(uploads or []):
            if file.file_id in added:
                continue  # a rerun shows the same file again; it was kept already
            name = t("train.snapshot_name", time=time.strftime("%H%M%S")) if file is snapshot else file.name
            try:
                saved.add_photo(breed, file.getvalue(), name)
            except CatbreedError as error:  # not kept: said on every run while the file is still here
                st.error(plain(said(error.message)))
            else:
                added.add(file.file_id)
        counts = saved.counts()
        st.write(" · ".join(f"{plain(b)}: {n}" for b, n in counts.items()))
        browse = st.selectbox(t("train.look_at"), breeds, key="browse")
        photos = saved.photos(browse)
        columns = st.columns(6)
        for index, photo in enumerate(photos[:PHOTOS_SHOWN]):
            with columns[index % 6]:
                if picture := small_copy(photo.path):
                    st.image(picture, width="stretch")
                else:
                    st.caption(t("train.no_preview"))
                if st.button(t("train.remove"), key=f"drop-{photo.name}", icon=":material/delete:"):
                    act(lambda photo=photo: saved.remove_photo(photo.name), t("train.removed", name=photo.name))
        if len(photos) > PHOTOS_SHOWN:
            st.caption(t("train.more", n=len(photos) - PHOTOS_SHOWN))
        download, delete = st.columns(2)
        with download:
            download_data_set(saved)
        with delete.popover(t("train.delete"), icon=":material/delete_forever:"):
            st.write(t("train.delete_explained"))
            if st.button(t("train.delete_confirm"), type="primary", key="delete-data-set"):
                name = saved.name
                saved.delete()
                for param in ("data", "job"):
                    st.query_params.pop(param, None)
                st.toast(plain(t("train.deleted", name=name)))
                st.rerun()


def download_data_set(saved: SavedDataset) -> None:
    st.download_button(
        t("train.download"),
        data=saved.zip_file,
        file_name=f"{saved.name}.zip",
        mime="application/zip",
        help=t("train.download_help"),
    )

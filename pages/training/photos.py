"""The Train page's first phase: where the photos come from, the data set kept here and its editor,
and the report on the photos. A module of the page, outside pages/ itself, where Streamlit's old
pages-folder mode would list it as a page."""

import time

import pandas as pd
import streamlit as st

from catbreed.data.dataset import Dataset
from catbreed.data.images import PHOTO_TYPES
from catbreed.data.saved_datasets import DatasetStore, SavedDataset
from catbreed.errors import CatbreedError
from catbreed.explain import charts
from pages.frame.shared import plain, small_copy, visitor

THUMBNAILS_PER_BREED = 4
PHOTOS_SHOWN = 12


def describe(event) -> str:
    return event.describe() + (f" · about {event.eta_seconds:.0f}s left" if event.eta_seconds is not None else "")


def show_thumbnails(dataset: Dataset) -> None:
    columns = st.columns(2)
    for index, label in enumerate(dataset.classes):
        photos = [p for p in dataset.photos if p.label == label][:THUMBNAILS_PER_BREED]
        with columns[index % 2]:
            st.text(f"{label} ({dataset.counts[label]})")
            pictures = [small_copy(p.path) for p in photos]
            if pictures and None not in pictures:
                st.image(pictures, width=96)
            elif pictures:
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


def act(change, message: str) -> None:
    try:
        change()
    except CatbreedError as error:
        st.error(plain(str(error)))
        return
    st.toast(plain(message))
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
                return DatasetStore().from_upload(
                    upload, on_event=lambda e: bar.progress(e.fraction, text=describe(e)), owner=visitor().identity
                )
            except CatbreedError as error:
                bar.empty()
                st.error(plain(str(error)))
    with from_nothing, st.form("new-data-set"):
        name = st.text_input("Name of the new data set", value="my cats")
        if st.form_submit_button("Create it"):
            try:
                return DatasetStore().create(name, owner=visitor().identity)
            except CatbreedError as error:
                st.error(plain(str(error)))
    with from_saved:
        kept = {saved.id: saved for saved in DatasetStore().list() if visitor().may_open(saved.ownership)}
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
            name = f"snapshot {time.strftime('%H%M%S')}.jpg" if file is snapshot else file.name
            try:
                saved.add_photo(breed, file.getvalue(), name)
            except CatbreedError as error:  # not kept: said on every run while the file is still here
                st.error(plain(str(error)))
            else:
                added.add(file.file_id)
        counts = saved.counts()
        st.write(" · ".join(f"{plain(b)}: {n}" for b, n in counts.items()))
        browse = st.selectbox("Look at the photos of", breeds, key="browse")
        photos = saved.photos(browse)
        columns = st.columns(6)
        for index, photo in enumerate(photos[:PHOTOS_SHOWN]):
            with columns[index % 6]:
                if picture := small_copy(photo.path):
                    st.image(picture, width="stretch")
                else:
                    st.caption("(preview unavailable)")
                if st.button("Remove", key=f"drop-{photo.name}", icon=":material/delete:"):
                    act(lambda photo=photo: saved.remove_photo(photo.name), f"Removed {photo.name}.")
        if len(photos) > PHOTOS_SHOWN:
            st.caption(f"…and {len(photos) - PHOTOS_SHOWN} more.")
        download, delete = st.columns(2)
        with download:
            download_data_set(saved)
        with delete.popover("Delete this data set", icon=":material/delete_forever:"):
            st.write("Its photos leave this server for good; models trained on it stay.")
            if st.button("Delete it for good", type="primary", key="delete-data-set"):
                name = saved.name
                saved.delete()
                for param in ("data", "job"):
                    st.query_params.pop(param, None)
                st.toast(plain(f"Deleted the data set {name}."))
                st.rerun()


def download_data_set(saved: SavedDataset) -> None:
    st.download_button(
        "Download the data set (.zip)",
        data=saved.zip_file,
        file_name=f"{saved.name}.zip",
        mime="application/zip",
        help="One folder per breed: the layout this page and `python -m catbreed train` read.",
    )

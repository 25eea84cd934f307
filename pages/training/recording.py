"""Hold to record, in the data set editor: while the person holds the button, the camera's frames
become photos of the chosen breed (catbreed/data/bursts.py keeps the new-enough ones), the count
rises on the button and below it, and the last burst can be taken back.

A fragment: each batch the browser sends reruns only this part of the page, and the whole page once
the burst ends (the counts and photos above and below show it)."""

import time

import streamlit as st

from catbreed.data.bursts import Burst
from catbreed.data.saved_datasets import SavedDataset
from catbreed.limits import limits
from pages.frame.language import said, t
from pages.frame.live_camera import recorded_frames, recording_camera
from pages.frame.shared import plain, visitor

RECORDER_KEY = "data-recorder"
BURST = "data-burst"  # {"data_set", "burst" (the browser's number), "answered", "record" (a Burst)}


@st.fragment
def record_photos(saved: SavedDataset, breed: str) -> None:
    state = st.session_state.setdefault(BURST, {"answered": -1})
    batch = recorded_frames(RECORDER_KEY)
    # A batch not taken yet (a rerun shows the last one again), from someone who may still change
    # this data set: a fragment's rerun skips the page's own check.
    fresh = batch is not None and batch.id != state["answered"] and visitor().may_change(saved.ownership)
    if fresh:
        if (state.get("data_set"), state.get("burst")) != (saved.id, batch.burst):
            name = t("train.burst_name", time=time.strftime("%H%M%S"))
            state.update(data_set=saved.id, burst=batch.burst, record=Burst(breed, name))
        state["record"].add(saved, batch.frames)
        state["answered"] = batch.id
    most = limits().burst_photos
    words = {
        "hold": t("train.hold_to_record", n=most),
        "recording": t("train.recording"),
        "blocked": t("camera.blocked"),
    }
    recording_camera(RECORDER_KEY, state["answered"], most, words)
    burst = state.get("record") if state.get("data_set") == saved.id else None
    if burst is not None:
        st.caption(t("train.burst_kept", n=len(burst.kept), breed=plain(burst.breed), alike=burst.alike))
        if burst.stopped is not None:
            st.warning(plain(said(burst.stopped)), icon=":material/warning:")
        if burst.kept and st.button(t("train.undo_burst", n=len(burst.kept)), icon=":material/undo:"):
            removed = burst.undo(saved)
            state.pop("record")
            st.toast(t("train.burst_undone", n=removed))
            st.rerun()
    if fresh and batch.done:
        st.rerun()  # the whole page, whose counts and photos now hold the burst

"""It looks most like these of yours, and where it sits among them: for answers on Classify and on
Train's results, the nearest photos of the model's own data set (catbreed/models/neighbours.py)
and the data set as a map with the photos placed on it.

The pictures come from the data set the model learned from, while it exists and this person may
open it; otherwise the names and breeds alone (a model keeps no pictures of its photos)."""

import base64
from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from catbreed.data.saved_datasets import DatasetStore
from catbreed.explain import charts
from catbreed.models.bundle import ModelBundle
from catbreed.models.predict import Prediction
from pages.frame.language import language, pct, t
from pages.frame.shared import plain, small_copy, visitor

NEAREST = 5
MAP_POINTS = 600  # at most, drawn in proportion: a tooltip's picture each, ~2 KB
MAP_PICTURE = 64  # pixels a side of a picture on the map

PhotoFinder = Callable[[str], Path | None]  # a photo's name in the data set -> its file, if shown
MAP_PICTURES = "map-pictures"  # (model version, its map's pictures) in the session


def kept_data_set_photos(bundle: ModelBundle) -> PhotoFinder:
    """The photos of the data set `bundle` learned from, for this person: found while it is kept
    and they may open it (someone else's private data set stays private)."""
    source = bundle.metadata.data.source if bundle.metadata.data else None
    saved = DatasetStore().get(source.dataset_id) if source else None
    if saved is None or not visitor().may_open(saved.ownership):
        return lambda name: None
    return folder_photos(saved.photos_folder)


def folder_photos(folder: Path) -> PhotoFinder:
    """Photos by name in `folder`; a name is the model's (data), so it never reaches outside."""
    root = folder.resolve()

    def find(name: str) -> Path | None:
        path = (root / name).resolve()
        return path if path.is_relative_to(root) and path.is_file() else None

    return find


def show_nearest(bundle: ModelBundle, of: Prediction | str, photos: PhotoFinder) -> None:
    """The model's own photos most like a photo, with breed and similarity: the one a prediction
    answered, or (a name) one of the model's own, itself left out."""
    kept = bundle.neighbours
    if kept is None or (isinstance(of, Prediction) and of.features is None):
        st.caption(t("alike.not_kept"))
        return
    nearest = kept.nearest_to_kept(of, NEAREST) if isinstance(of, str) else kept.nearest(of.features[None], NEAREST)[0]
    if not nearest:
        return
    st.caption(t("alike.title"))
    captions = [
        plain(t("alike.caption", breed=bundle.classes[n.breed], similarity=pct(max(n.similarity, 0.0), 0)))
        for n in nearest
    ]
    pictures = [small_copy(path, 120) if (path := photos(n.name)) else None for n in nearest]
    if all(pictures):  # one row of pictures, however narrow the column (Train shows four answers a row)
        st.image(pictures, caption=captions, width=72)
    else:  # the data set is gone, changed or not this person's to see: the words alone
        st.caption(" · ".join(f"{plain(n.name)} ({c})" for n, c in zip(nearest, captions)))


def _picture_url(path: Path | None) -> str | None:
    jpeg = small_copy(path, MAP_PICTURE) if path else None
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode() if jpeg else None


@st.cache_data(max_entries=8, show_spinner=False)
def _most_mixed(version: tuple, _bundle: ModelBundle) -> tuple[int, int, float]:
    """The pair of breeds that mix most on the map, once per model (2,000 photos: a third of a second)."""
    return _bundle.neighbours.mixing()[0] if len(_bundle.classes) > 1 else (0, 0, 0.0)


def _pictures(version: tuple, names: list[str], photos: PhotoFinder) -> list[str | None]:
    """The map's pictures, made once per model in this person's session (a slider's rerun redraws
    the map and must not look at 600 files again); this person's, since what they may open is theirs."""
    made = st.session_state.get(MAP_PICTURES)
    if made is None or made[0] != version:
        made = (version, [_picture_url(photos(name)) for name in names])
        st.session_state[MAP_PICTURES] = made
    return made[1]


def show_map(
    bundle: ModelBundle, version: tuple, photos: PhotoFinder, placed: list[tuple[str, Prediction]], key: str
) -> None:
    """The model's photos as a map coloured by breed, `placed` (name, prediction) among them, and
    which breeds mix on it, with how often the model confused them. `version` names the model."""
    kept = bundle.neighbours
    if kept is None:
        return
    shown = np.random.default_rng(0).permutation(len(kept.labels_))[:MAP_POINTS]
    points = kept.points_[shown, :2].astype(float)
    pictures = _pictures(version, [str(kept.names_[i]) for i in shown], photos)
    here = [(*map(float, kept.place(p.features[None])[0, :2]), name) for name, p in placed if p.features is not None]
    breeds = [bundle.classes[kept.labels_[i]] for i in shown]
    chart = charts.data_map(points, breeds, pictures if any(pictures) else (), here, language())
    st.altair_chart(chart, width="stretch", key=key)
    a, b, share = _most_mixed(version, bundle)
    if share > 0:
        confused = _confused(bundle, a, b)
        st.caption(
            plain(
                t(
                    "alike.mixing",
                    a=bundle.classes[a],
                    b=bundle.classes[b],
                    share=pct(share, 0),
                    n=confused,
                )
            )
        )
    st.caption(t("alike.map_caption"))


def _confused(bundle: ModelBundle, a: int, b: int) -> int:
    """How many photos of a the model took for b and of b for a, out of fold (its evaluation)."""
    evaluation = bundle.metadata.evaluation
    if evaluation is None:
        return 0
    labels = list(evaluation.labels)
    i, j = labels.index(bundle.classes[a]), labels.index(bundle.classes[b])
    return int(evaluation.confusion[i][j] + evaluation.confusion[j][i])

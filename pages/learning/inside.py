"""The Learn page's last sections, on the real network and the person's photo: click through one
unit of a feature map, see what a channel looks for, and follow the head from features to breeds.
A module of the page, outside pages/ itself, where Streamlit's old pages-folder mode would list it."""

import keras
import numpy as np
import pandas as pd
import streamlit as st

from catbreed.explain import channels, network, units
from catbreed.models.bundle import ModelBundle
from catbreed.models.predict import Prediction
from pages.frame.alike import PhotoFinder
from pages.frame.language import num, pct, t
from pages.frame.shared import backbone, plain, small_copy

KIND_WORDS = {
    units.FULL: "learn.kind.full",
    units.DEPTHWISE: "learn.kind.depthwise",
    units.POINTWISE: "learn.kind.pointwise",
}
CONTRIBUTIONS_SHOWN = 8
EXCITING_PHOTOS = 4
PHOTOS_SCORED = 48  # of the model's data set, drawn across its breeds: a second or two, once per layer


@st.cache_data(max_entries=16, show_spinner=False)
def _trace(photo: bytes, backbone_name: str, inner: str, chain: units.Chain, channel, y, x) -> units.UnitTrace:
    return units.trace(_inner(backbone_name, inner), photo, chain, channel, y, x)


@st.cache_data(max_entries=32, show_spinner=False)
def _channel_image(backbone_name: str, inner: str, layer: str, channel: int) -> np.ndarray:
    return channels.channel_image(_inner(backbone_name, inner), layer, channel)


@st.cache_data(max_entries=8, show_spinner=False)
def _strengths(backbone_name: str, inner: str, layer: str, names: tuple[str, ...], _paths) -> np.ndarray:
    return channels.channel_strengths(_inner(backbone_name, inner), layer, _paths)


def _inner(backbone_name: str, inner: str) -> keras.Model:
    net = backbone(backbone_name)
    return net.get_layer(inner) if inner else net


def click_through(photo: bytes, backbone_name: str, inner: str) -> units.UnitTrace:
    """Pick a layer, a channel and a place; see the numbers that made that one value."""
    net = _inner(backbone_name, inner)
    chains = units.chains(net)
    pick, where = st.columns([2, 1])
    chain = pick.selectbox(
        t("learn.unit_layer"),
        chains,
        format_func=lambda c: t("learn.unit_layer_option", layer=c.activation, kind=t(KIND_WORDS[c.kind])),
        key="unit-layer",
    )
    channels_in_layer = int(net.get_layer(chain.activation).output.shape[-1])
    channel = where.number_input(
        t("learn.unit_channel", n=channels_in_layer),
        0,
        channels_in_layer - 1,
        value=None,
        key=f"unit-channel-{chain.activation}",
    )
    unit = _trace(photo, backbone_name, inner, chain, channel, None, None)
    height, width = unit.feature_map.shape
    row, column = st.columns(2)
    y = row.slider(t("learn.unit_row"), 0, height - 1, unit.y, key=f"unit-y-{chain.activation}-{unit.channel}")
    x = column.slider(t("learn.unit_column"), 0, width - 1, unit.x, key=f"unit-x-{chain.activation}-{unit.channel}")
    if (y, x) != (unit.y, unit.x):
        unit = _trace(photo, backbone_name, inner, chain, unit.channel, y, x)
    picture, numbers = st.columns([1, 2])
    with picture:
        marked = network.colourise(network.normalise(unit.feature_map))
        marked[unit.y, unit.x] = (255, 255, 255)  # the unit, one pixel of the map
        st.image(marked, width="stretch", clamp=True)
        st.caption(t("learn.unit_map", layer=unit.chain.activation, channel=unit.channel, y=unit.y, x=unit.x))
    with numbers:
        _show_patch(unit)
        lines = [t("learn.unit_sum", total=num(unit.total, 4), bias=num(unit.bias, 4))]
        if unit.chain.normalisation:
            lines.append(
                t(
                    "learn.unit_bn",
                    scale=num(unit.scale, 4),
                    shift=num(unit.shift, 4),
                    value=num(unit.normalised, 4),
                )
            )
        ceiling = num(unit.ceiling, 0) if unit.ceiling is not None else "∞"
        lines.append(t("learn.unit_relu", ceiling=ceiling, value=num(unit.activation, 4)))
        lines.append(t("learn.unit_network", value=num(unit.network, 4)))
        st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1)))
    return unit


def _show_patch(unit: units.UnitTrace) -> None:
    """What the kernel multiplied, as numbers: a window per input channel, or the largest terms."""
    if unit.chain.kind == units.POINTWISE:
        products = unit.patch * unit.kernel
        order = np.argsort(-np.abs(products))[:CONTRIBUTIONS_SHOWN]
        rows = [(int(i), float(unit.patch[i]), float(unit.kernel[i]), float(products[i])) for i in order]
        names = [
            t("learn.unit_col.channel"),
            t("learn.unit_col.input"),
            t("learn.unit_col.weight"),
            t("learn.unit_col.product"),
        ]
        st.caption(t("learn.unit_pointwise", n=len(unit.patch), shown=len(rows)))
        st.dataframe(pd.DataFrame(rows, columns=names), hide_index=True)
        return
    windows = (
        [unit.patch]
        if unit.chain.kind == units.DEPTHWISE
        else [unit.patch[..., c] for c in range(unit.patch.shape[-1])]
    )
    kernels = (
        [unit.kernel]
        if unit.chain.kind == units.DEPTHWISE
        else [unit.kernel[..., c] for c in range(unit.kernel.shape[-1])]
    )
    shown = min(len(windows), 3)  # a full convolution past the stem has many input channels: the first three
    st.caption(t("learn.unit_window", size=unit.patch.shape[0], n=len(windows), shown=shown))
    for window, kernel in zip(windows[:shown], kernels[:shown]):
        left, right = st.columns(2)
        left.dataframe(pd.DataFrame(window).round(3), hide_index=True)
        right.dataframe(pd.DataFrame(kernel).round(3), hide_index=True)


def channel_looks_for(
    backbone_name: str, inner: str, unit: units.UnitTrace, bundle: ModelBundle, photos: PhotoFinder
) -> None:
    """The image that excites the unit's channel most, and the model's own photos that do."""
    layer, channel = unit.chain.activation, unit.channel
    made, found = st.columns([1, 2])
    with made:
        if st.toggle(t("learn.channel_make"), key="channel-make", help=t("learn.channel_make_help")):
            with st.spinner(t("learn.channel_making")):
                st.image(_channel_image(backbone_name, inner, layer, channel), width="stretch")
            st.caption(t("learn.channel_made", layer=layer, channel=channel))
    with found:
        kept = bundle.neighbours
        paths = {str(n): photos(str(n)) for n in kept.names_} if kept is not None else {}
        drawn = [name for name, path in paths.items() if path is not None]
        drawn = [drawn[i] for i in np.random.default_rng(0).permutation(len(drawn))[:PHOTOS_SCORED]]
        if not drawn:
            st.caption(t("learn.channel_no_photos"))
            return
        if not st.toggle(t("learn.channel_photos", n=len(drawn)), key="channel-photos"):
            return
        with st.spinner(t("learn.channel_scoring")):
            strengths = _strengths(backbone_name, inner, layer, tuple(drawn), [paths[n] for n in drawn])
        best = np.argsort(-strengths[:, channel])[:EXCITING_PHOTOS]
        pictures = [small_copy(paths[drawn[i]], 160) for i in best]
        captions = [
            plain(t("learn.channel_photo", name=drawn[i], value=num(float(strengths[i, channel]), 3))) for i in best
        ]
        st.image([p for p in pictures if p], caption=[c for p, c in zip(pictures, captions) if p], width=140)


def head_numbers(bundle: ModelBundle, prediction: Prediction) -> None:
    """From the pooled features to the probabilities, with this photo's numbers."""
    if bundle.head is None or prediction.features is None:
        st.write(t("learn.head_builtin"))
        return
    step = units.head_step(bundle.head, prediction.features)
    top = int(np.argmax(step.probabilities))
    st.write(
        t(
            "learn.head_text",
            d=len(step.features),
            temperature=num(step.temperature, 2),
            breed=plain(bundle.classes[top]),
        )
    )
    order = np.argsort(-step.probabilities)
    rows = [
        (
            bundle.classes[c],
            float(step.scores[c]),
            float(step.scores[c] / step.temperature),
            pct(float(step.probabilities[c])),
        )
        for c in order
    ]
    names = [
        t("learn.head_col.breed"),
        t("learn.head_col.score"),
        t("learn.head_col.scaled"),
        t("learn.head_col.probability"),
    ]
    left, right = st.columns(2)
    left.dataframe(pd.DataFrame(rows, columns=names).round(3), hide_index=True)
    pushes = np.argsort(-step.contributions)[:CONTRIBUTIONS_SHOWN]
    weights = bundle.head.weights_[:, top]
    parts = [(int(d), float(step.normalised[d]), float(weights[d]), float(step.contributions[d])) for d in pushes]
    columns = [
        t("learn.head_col.feature"),
        t("learn.head_col.value"),
        t("learn.head_col.weight"),
        t("learn.head_col.product"),
    ]
    right.caption(t("learn.head_pushes", breed=plain(bundle.classes[top])))
    right.dataframe(pd.DataFrame(parts, columns=columns).round(4), hide_index=True)

import numpy as np
import pandas as pd
import streamlit as st

from catbreed.data.images import ImageProblem, open_rgb
from catbreed.explain import cnn_basics, network
from catbreed.learn.features import FeatureCache
from catbreed.nets.backbones import get_spec
from catbreed.paths import catbreed_home
from pages.frame.alike import kept_data_set_photos
from pages.frame.language import num, pct, said, t
from pages.frame.shared import THUMBNAIL, backbone, model_in_use, photo_uploader, plain, where_it_looked
from pages.learning.inside import channel_looks_for, click_through, head_numbers

SMALL = 64  # the grey image the building blocks work on: small enough to see every pixel's effect
DEPTHS = {"shallow": "learn.depth.shallow", "middle": "learn.depth.middle", "deep": "learn.depth.deep"}
KERNEL_WORDS = {  # cnn_basics.KERNELS, as the page names them
    "edges": "learn.kernel.edges",
    "vertical edges": "learn.kernel.vertical",
    "horizontal edges": "learn.kernel.horizontal",
    "sharpen": "learn.kernel.sharpen",
    "blur": "learn.kernel.blur",
    "identity": "learn.kernel.identity",
}


@st.cache_data(max_entries=8, show_spinner=False)
def maps_for(photo: bytes, backbone_name: str, layer: str) -> network.FeatureMaps:
    return network.feature_maps(backbone(backbone_name), photo, layer, n=8)


st.title(t("learn.title"))
st.caption(t("learn.caption"))

with st.expander(t("learn.own_photo"), expanded=False):
    left, right = st.columns(2)
    upload = photo_uploader(left, t("learn.a_photo"), key="learn_upload")
    # The camera starts only when asked: a collapsed section must not switch on anyone's webcam.
    wants_camera = right.toggle(t("learn.use_webcam"), key="learn_camera")
    snapshot = right.camera_input(t("learn.snapshot"), key="learn_snapshot") if wants_camera else None
given = snapshot or upload
photo = given.getvalue() if given else cnn_basics.demo_photo()
try:
    image = open_rgb(photo)
except ImageProblem as problem:
    st.error(t("learn.not_a_photo", reason=said(problem.reason)))
    st.stop()
grey = cnn_basics.to_grey(image, SMALL)

# --- 1. The perceptron ---------------------------------------------------------------------
st.header(t("learn.perceptron"), anchor=False)
st.write(t("learn.perceptron_text"))
columns = st.columns(4)
inputs = np.array(
    [columns[i].slider(t("learn.input", i=i + 1), 0.0, 1.0, v, 0.1, key=f"x{i}") for i, v in enumerate((1.0, 0.0, 1.0))]
)
weights = np.array(
    [
        columns[i].slider(t("learn.weight", i=i + 1), -1.0, 1.0, v, 0.05, key=f"w{i}")
        for i, v in enumerate((0.5, 0.9, 0.25))
    ]
)
threshold = columns[3].slider(t("learn.threshold"), -1.0, 2.0, 0.7, 0.05, key="threshold")
neuron = cnn_basics.perceptron(inputs, weights, threshold)
columns[3].metric(
    t("learn.output"),
    t("learn.fires") if neuron.fires else t("learn.silent"),
    t("learn.sum", value=num(neuron.weighted_sum, 2)),
    delta_color="off",
)
st.code(
    " + ".join(f"{x:g}×{w:g}" for x, w in zip(inputs, weights))
    + f" = {neuron.weighted_sum:.2f}"
    + (" ≥ " if neuron.fires else " < ")
    + f"{threshold:g}",
    language=None,
)

# --- 2. Networks of neurons ----------------------------------------------------------------
st.header(t("learn.network"), anchor=False)
inputs_label, hidden_label, outputs_label = t("learn.inputs"), t("learn.hidden"), t("learn.outputs")
st.graphviz_chart(
    'digraph { rankdir=LR; node [shape=circle, style=filled, fillcolor="#f3ece3", color="#c0643b", label=""];'
    f'subgraph cluster_in {{label="{inputs_label}"; color=white; i1; i2; i3}}'
    f'subgraph cluster_h {{label="{hidden_label}"; color=white; h1; h2; h3; h4}}'
    f'subgraph cluster_out {{label="{outputs_label}"; color=white; o1; o2}}'
    '{i1 i2 i3} -> {h1 h2 h3 h4} -> {o1 o2} [color="#b9aa9a", arrowsize=0.4] }',
    width="content",
)
st.write(t("learn.network_text"))

# --- 3. Convolution ------------------------------------------------------------------------
st.header(t("learn.convolution"), anchor=False)
st.write(t("learn.convolution_text"))
preset = st.selectbox(
    t("learn.kernel"), list(cnn_basics.KERNELS), index=1, format_func=lambda k: t(KERNEL_WORDS[k]), key="kernel"
)
kernel = st.data_editor(
    pd.DataFrame(cnn_basics.KERNELS[preset], columns=["", " ", "  "]),
    key=f"kernel-{preset}",
    hide_index=True,
    width=300,
).to_numpy(dtype=np.float32)
convolved = cnn_basics.convolve(grey, kernel)
before, after = st.columns(2)
before.image(cnn_basics.to_display(grey), caption=t("learn.input_caption", size=SMALL), width=256)
after.image(
    cnn_basics.to_display(convolved),
    caption=t("learn.after_kernel", height=convolved.shape[0], width=convolved.shape[1]),
    width=256,
)
row = st.slider(t("learn.pixel"), 0, convolved.shape[0] - 1, convolved.shape[0] // 2, key="pixel")
step = cnn_basics.window_product(grey, kernel, row, row)
st.code(f"output[{row}, {row}] = " + step.written_out(), language=None)

# --- 4. ReLU -------------------------------------------------------------------------------
st.header(t("learn.relu"), anchor=False)
rectified = cnn_basics.relu(convolved)
st.write(t("learn.relu_text", share=pct(float(np.mean(convolved < 0)), 0)))
st.image(cnn_basics.to_display(rectified), caption=t("learn.after_relu"), width=256)

# --- 5. Pooling ----------------------------------------------------------------------------
st.header(t("learn.pooling"), anchor=False)
pooled = cnn_basics.max_pool(rectified)
st.image(
    cnn_basics.to_display(pooled),
    caption=t("learn.after_pooling", height=pooled.shape[0], width=pooled.shape[1]),
    width=256,
)
st.write(t("learn.pooling_text"))

# --- 6. The backbone -----------------------------------------------------------------------
model = model_in_use()
if model.notice:
    st.warning(plain(said(model.notice)), icon=":material/warning:")
spec = get_spec(model.predictor.bundle.backbone)
net = backbone(spec.name)
st.header(t("learn.in_use"), anchor=False)
st.write(t("learn.backbone", name=plain(spec.name), parameters=net.count_params(), size=spec.image_size))
blocks = network.architecture(net)
st.dataframe(
    pd.DataFrame(
        [(b.name, "×".join(map(str, b.output_shape)), b.parameters) for b in blocks],
        columns=[t("learn.column.block"), t("learn.column.shape"), t("learn.column.parameters")],
    ),
    hide_index=True,
    height=260,
)

# --- 7. Transfer learning ------------------------------------------------------------------
st.header(t("learn.transfer"), anchor=False)
cached, size = FeatureCache(catbreed_home(), spec.name).stats()
st.write(t("learn.transfer_text", weights=net.count_params(), cached=cached, mb=round(size / 1e6, 1)))

# --- 8. What the model sees ----------------------------------------------------------------
st.header(t("learn.sees"), anchor=False)
st.write(t("learn.first_layer"))
st.image(network.first_layer_filters(net, spec.layers.stem), width=420)
depth = st.radio(t("learn.layer"), list(DEPTHS), horizontal=True, format_func=lambda d: t(DEPTHS[d]), key="depth")
maps = maps_for(photo, spec.name, getattr(spec.layers, depth))
h, w, channels = maps.shape
st.caption(t("learn.maps_caption", layer=maps.layer, height=h, width=w, channels=channels))
channel_names = [t("learn.channel", n=c) for c in maps.channels]
st.image([network.colourise(m) for m in maps.maps], width=110, caption=channel_names)

# --- 9. Where it looked --------------------------------------------------------------------
st.header(t("learn.where"), anchor=False)
prediction = model.predictor.predict(photo, top_k=1)
label = prediction.top[0][0]
heat = where_it_looked(model.predictor.bundle, model.version, photo, label, THUMBNAIL)
st.write(t("learn.where_text", label=plain(label), model=plain(model.label)))
st.image(heat, width=320)

# --- 10. Click through the network ----------------------------------------------------------
st.header(t("learn.click"), anchor=False)
st.write(t("learn.click_text"))
inner_network = spec.inner_network(net)
inner = inner_network.name if inner_network is not net else ""
unit = click_through(photo, spec.name, inner)

# --- 11. What a channel looks for -----------------------------------------------------------
st.header(t("learn.channel"), anchor=False)
st.write(t("learn.channel_text"))
bundle = model.predictor.bundle
channel_looks_for(spec.name, inner, unit, bundle, kept_data_set_photos(bundle))

# --- 12. From features to breeds ------------------------------------------------------------
st.header(t("learn.head"), anchor=False)
head_numbers(bundle, prediction)

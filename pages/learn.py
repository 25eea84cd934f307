import numpy as np
import pandas as pd
import streamlit as st

from catbreed.data.images import PHOTO_TYPES, ImageProblem, open_rgb
from catbreed.explain import cnn_basics, network
from catbreed.learn.features import FeatureCache
from catbreed.nets.backbones import get_spec
from catbreed.paths import catbreed_home
from pages.frame.shared import THUMBNAIL, backbone, model_in_use, plain, where_it_looked

SMALL = 64  # the grey image the building blocks work on: small enough to see every pixel's effect
DEPTHS = ("shallow", "middle", "deep")


@st.cache_data(max_entries=8, show_spinner=False)
def maps_for(photo: bytes, backbone_name: str, layer: str) -> network.FeatureMaps:
    return network.feature_maps(backbone(backbone_name), photo, layer, n=8)


st.title("Learn how a CNN sees")
st.caption("Each idea on its own, shown on the real network in use and on your own photo.")

with st.expander("Use your own photo or a webcam snapshot", expanded=False):
    left, right = st.columns(2)
    upload = left.file_uploader("A photo", type=PHOTO_TYPES, key="learn_upload")
    # The camera starts only when asked: a collapsed section must not switch on anyone's webcam.
    wants_camera = right.toggle("Use the webcam", key="learn_camera")
    snapshot = right.camera_input("Or a snapshot", key="learn_snapshot") if wants_camera else None
given = snapshot or upload
photo = given.getvalue() if given else cnn_basics.demo_photo()
try:
    image = open_rgb(photo)
except ImageProblem as problem:
    st.error(f"That file cannot be used as a photo: {problem.reason}. Try a JPEG or PNG.")
    st.stop()
grey = cnn_basics.to_grey(image, SMALL)

# --- 1. The perceptron ---------------------------------------------------------------------
st.header("1. The perceptron", anchor=False)
st.write(
    "A single artificial neuron (Rosenblatt, 1958) multiplies each input by a weight, adds them up, "
    "and fires when the sum reaches a threshold. Learning means adjusting the weights."
)
columns = st.columns(4)
inputs = np.array([columns[i].slider(f"input x{i + 1}", 0.0, 1.0, v, 0.1) for i, v in enumerate((1.0, 0.0, 1.0))])
weights = np.array([columns[i].slider(f"weight w{i + 1}", -1.0, 1.0, v, 0.05) for i, v in enumerate((0.5, 0.9, 0.25))])
threshold = columns[3].slider("threshold", -1.0, 2.0, 0.7, 0.05)
neuron = cnn_basics.perceptron(inputs, weights, threshold)
columns[3].metric(
    "output", "1 (fires)" if neuron.fires else "0 (silent)", f"sum {neuron.weighted_sum:.2f}", delta_color="off"
)
st.code(
    " + ".join(f"{x:g}×{w:g}" for x, w in zip(inputs, weights))
    + f" = {neuron.weighted_sum:.2f}"
    + (" ≥ " if neuron.fires else " < ")
    + f"{threshold:g}",
    language=None,
)

# --- 2. Networks of neurons ----------------------------------------------------------------
st.header("2. A neural network", anchor=False)
st.graphviz_chart(
    """digraph { rankdir=LR; node [shape=circle, style=filled, fillcolor="#f3ece3", color="#c0643b", label=""];
    subgraph cluster_in {label="inputs"; color=white; i1; i2; i3}
    subgraph cluster_h {label="hidden layer"; color=white; h1; h2; h3; h4}
    subgraph cluster_out {label="outputs"; color=white; o1; o2}
    {i1 i2 i3} -> {h1 h2 h3 h4} -> {o1 o2} [color="#b9aa9a", arrowsize=0.4] }""",
    width="content",
)
st.write(
    "Layers of neurons, each feeding the next, can learn far more than one neuron alone. Training nudges every "
    "weight a little against the gradient of the error (backpropagation) until the outputs are right."
)

# --- 3. Convolution ------------------------------------------------------------------------
st.header("3. Convolution: one small kernel, slid over the whole image", anchor=False)
st.write(
    "Hubel and Wiesel (1968) found cells in the visual cortex that each answer to an edge at one orientation "
    "in a small patch of view. A convolutional layer does the same: a 3×3 kernel of weights is slid over the "
    "image, and each output pixel is the dot product of the kernel with the pixels under it."
)
preset = st.selectbox("Kernel", list(cnn_basics.KERNELS), index=1)
kernel = st.data_editor(
    pd.DataFrame(cnn_basics.KERNELS[preset], columns=["", " ", "  "]),
    key=f"kernel-{preset}",
    hide_index=True,
    width=300,
).to_numpy(dtype=np.float32)
convolved = cnn_basics.convolve(grey, kernel)
before, after = st.columns(2)
before.image(cnn_basics.to_display(grey), caption=f"input, {SMALL}×{SMALL} grey", width=256)
after.image(
    cnn_basics.to_display(convolved), caption=f"after the kernel, {convolved.shape[0]}×{convolved.shape[1]}", width=256
)
row = st.slider("Output pixel to write out (row and column)", 0, convolved.shape[0] - 1, convolved.shape[0] // 2)
step = cnn_basics.window_product(grey, kernel, row, row)
st.code(f"output[{row}, {row}] = " + step.written_out(), language=None)

# --- 4. ReLU -------------------------------------------------------------------------------
st.header("4. ReLU: keep what fired", anchor=False)
rectified = cnn_basics.relu(convolved)
st.write(
    f"After each convolution, negative values are set to zero: max(0, x). Here {np.mean(convolved < 0):.0%} of "
    "the pixels were negative. Without this bend, stacked layers would collapse into one linear map."
)
st.image(cnn_basics.to_display(rectified), caption="after ReLU", width=256)

# --- 5. Pooling ----------------------------------------------------------------------------
st.header("5. Pooling: keep the strongest answer of each 2×2 block", anchor=False)
pooled = cnn_basics.max_pool(rectified)
st.image(
    cnn_basics.to_display(pooled), caption=f"after 2×2 max pooling: {pooled.shape[0]}×{pooled.shape[1]}", width=256
)
st.write(
    "Pooling halves the size, so later kernels see a wider part of the image, and a feature moved by a pixel "
    "still gives the same answer. LeCun's 1998 network stacked convolution and pooling like this and read "
    "handwritten digits with 99.2% accuracy."
)

# --- 6. The backbone -----------------------------------------------------------------------
model = model_in_use()
if model.notice:
    st.warning(plain(model.notice), icon=":material/warning:")
spec = get_spec(model.predictor.bundle.backbone)
net = backbone(spec.name)
st.header("6. The network in use", anchor=False)
st.write(f"{plain(spec.description)}. Its blocks, from the photo to 1000 ImageNet classes:")
blocks = network.architecture(net)
st.dataframe(
    pd.DataFrame(
        [(b.name, "×".join(map(str, b.output_shape)), b.parameters) for b in blocks],
        columns=["block", "output shape", "parameters"],
    ),
    hide_index=True,
    height=260,
)

# --- 7. Transfer learning ------------------------------------------------------------------
st.header("7. Transfer learning: reuse what ImageNet taught", anchor=False)
cached, size = FeatureCache(catbreed_home(), spec.name).stats()
st.write(
    f"Training a CNN like this from scratch takes millions of photos. Instead catbreed keeps all its "
    f"{net.count_params():,} weights frozen and trains only a new head: a logistic regression from the 1280 "
    "features the network computes for each photo to your breeds. Those features never change for a "
    f"photo, so they are computed once and cached: this machine holds them for {cached:,} photos "
    f"({size / 1e6:.1f} MB), which is why retraining takes seconds. Accurate mode puts the features of three "
    "networks of different sizes side by side, and the head learns from all of them."
)

# --- 8. What the model sees ----------------------------------------------------------------
st.header("8. What the network sees in your photo", anchor=False)
st.write("The 32 kernels of the first layer, each a 3×3 colour patch: edges and colour contrasts.")
st.image(network.first_layer_filters(net, spec.layers.stem), width=420)
depth = st.radio("Layer", DEPTHS, horizontal=True, format_func=str.capitalize)
maps = maps_for(photo, spec.name, getattr(spec.layers, depth))
h, w, channels = maps.shape
st.caption(f"{maps.layer}: {h}×{w} pixels × {channels} channels; the 8 most active channels.")
st.image([network.colourise(m) for m in maps.maps], width=110, caption=[f"channel {c}" for c in maps.channels])

# --- 9. Where it looked --------------------------------------------------------------------
st.header("9. Where it looked", anchor=False)
label = model.predictor.predict(photo, top_k=1).top[0][0]
heat = where_it_looked(model.predictor.bundle, model.version, photo, label, THUMBNAIL)
st.write(
    f"Grad-CAM for the answer “{plain(label)}” of your model, {plain(model.label)}: bright where "
    "a change in the photo would change that answer most."
)
st.image(heat, width=320)

import streamlit as st

from catbreed.data.images import ImageProblem, thumbnail
from catbreed.explain import charts
from pages.shared import ModelInUse, model_in_use, plain, run_inside_navigation, where_it_looked

run_inside_navigation()

TOP_K = 5
UNCALIBRATED_NOT_SURE = 0.5  # the built-in model has no out-of-fold answers to set it from


def show_prediction(model: ModelInUse, name: str, data: bytes, not_sure_below: float) -> None:
    picture, answer = st.columns([1, 2])
    try:
        prediction = model.predictor.predict(data, top_k=TOP_K)
    except ImageProblem as problem:
        st.error(f"{plain(name)} cannot be used as a photo: {problem.reason}. Try a JPEG or PNG photo.")
        return
    with picture:
        st.image(thumbnail(data, 320), caption=plain(name), width="stretch")
        st.image(where_it_looked(model, data, prediction.top[0][0]), caption="Where it looked", width="stretch")
    with answer:
        label, probability = prediction.top[0]
        if not prediction.is_cat:  # the verdict leads: a dog gets no breed name as its headline
            st.subheader("This doesn't look like a cat", anchor=False)
            st.caption("The closest of the breeds the model knows, for what they are worth:")
        else:
            st.subheader(plain(label), anchor=False)
            if probability < not_sure_below:
                st.info(
                    f"Not sure: the likeliest breed has only {probability:.0%}, under the {not_sure_below:.0%} "
                    "set below. A clearer, closer photo helps.",
                    icon=":material/help_outline:",
                )
        st.altair_chart(charts.probabilities(prediction.top), width="stretch")
        st.text("   ".join(f"{breed} {p:.1%}" for breed, p in prediction.top))
        st.caption(f"Answered in {prediction.seconds * 1000:.0f} ms.")


st.title("Classify")
model = model_in_use()
if model.notice:
    st.warning(plain(model.notice), icon=":material/warning:")
st.caption(f"Your model: {plain(model.label)}. Choose another on the Models page.")
metrics = model.predictor.bundle.metadata.metrics
default = metrics.not_sure_below if metrics and metrics.not_sure_below is not None else UNCALIBRATED_NOT_SURE

sources, answers = st.columns([2, 3], gap="large")
with sources:
    camera_tab, upload_tab = st.tabs([":material/photo_camera: Webcam", ":material/image: Upload photos"])
    with camera_tab:
        snapshot = st.camera_input("Snap your cat", key="snapshot")
    with upload_tab:
        uploads = st.file_uploader(
            "Photos of cats",
            type=["jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"],
            accept_multiple_files=True,
            key="photos",
        )

    not_sure_below = (
        st.slider(
            "Say “not sure” below (%)",
            0,
            100,
            round(100 * default),
            5,
            key=f"not-sure-{model.label}",  # each model starts from its own calibrated default
            help="Answers whose likeliest breed has less than this are marked as unsure. The default comes from "
            "the model's own answers on photos it had not seen: below it, they were more often wrong than right.",
        )
        / 100
    )

photos = [("Webcam snapshot", snapshot.getvalue())] if snapshot else []
photos += [(upload.name, upload.getvalue()) for upload in uploads or []]
with answers:
    if not photos:
        st.info("Take a snapshot or upload photos to see which breed the model thinks they are.")
    for name, data in photos:
        with st.container(border=True):
            show_prediction(model, name, data, not_sure_below)

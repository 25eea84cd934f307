import streamlit as st

from catbreed.data.images import PHOTO_TYPES
from catbreed.models.verdict import NOT_A_CAT, NOT_SURE, UNKNOWN_BREED, Thresholds, headline
from pages.frame.shared import THUMBNAIL, ModelInUse, answer, model_in_use, plain, where_it_looked

TOP_K = 5


def show_prediction(model: ModelInUse, name: str, data: bytes, thresholds: Thresholds, looked: bool) -> None:
    picture, said = st.columns([1, 2])
    shown = answer(model, data, TOP_K)
    if shown.prediction is None:
        st.error(f"{plain(name)} cannot be used as a photo: {shown.problem}. Try a JPEG or PNG photo.")
        return
    prediction = shown.prediction
    label, probability = prediction.top[0]
    verdict = prediction.judged(thresholds)
    with picture:
        st.image(shown.picture, caption=plain(name), width="stretch")
        if looked:
            heat = where_it_looked(model.predictor.bundle, model.version, data, label, THUMBNAIL)
            st.image(heat, caption="Where it looked", width="stretch")
    with said:
        st.subheader(plain(headline(verdict, label)), anchor=False)
        if verdict == NOT_A_CAT:
            st.caption("The closest of the breeds the model knows, for what they are worth:")
        elif verdict == UNKNOWN_BREED:
            st.info(
                "This photo is unlike the photos of every breed this model learned: it may be a breed it was "
                "never taught, or an unusual view. The closest breeds, for what they are worth:",
                icon=":material/question_mark:",
            )
        elif verdict == NOT_SURE:
            st.info(
                f"Not sure: the likeliest breed has only {probability:.0%}, under the "
                f"{thresholds.not_sure_below:.0%} set below. A clearer, closer photo helps.",
                icon=":material/help_outline:",
            )
        for breed, p in prediction.top:  # bars, not a chart: a tenth of the server's time per photo
            st.progress(p, text=plain(f"{breed} {p:.1%}"))
        st.caption(f"Answered in {prediction.seconds * 1000:.0f} ms.")


def chosen_thresholds(model: ModelInUse) -> Thresholds:
    """The model's own thresholds, as this person moved them with the sliders."""
    defaults, metrics = model.predictor.bundle.metadata.thresholds, model.predictor.bundle.metadata.metrics
    not_sure = st.slider(
        "Say “not sure” below (%)",
        0,
        100,
        round(100 * defaults.not_sure_below),
        5,
        key=f"not-sure-{model.label}",  # each model starts from its own calibrated default
        help="Answers whose likeliest breed has less than this are marked as unsure. The default comes from the "
        "model's own answers on photos it had not seen: above it, at least 95% of them were right.",
    )
    unknown_below = None
    if metrics and metrics.unknown_curve and defaults.unknown_below is not None:
        default_share = min(metrics.unknown_curve, key=lambda p: abs(p[1] - defaults.unknown_below))[0]
        share = st.slider(
            "“Not one of my breeds”: strictness (%)",
            0,
            round(100 * metrics.unknown_curve[-1][0]),
            round(100 * default_share),
            1,
            key=f"unknown-{model.label}",
            help="How many photos of its own breeds it may call “not one of my breeds”, to catch photos of breeds "
            "it never learned. Stricter catches more unknown breeds and refuses more of yours.",
        )
        point = min(metrics.unknown_curve, key=lambda p: abs(p[0] - share / 100))
        unknown_below = point[1]
        st.caption(
            f"At {share}%: about {point[0]:.0%} of photos of its own breeds and {point[2]:.0%} of photos of breeds "
            "it never saw are called “not one of my breeds” (measured by leaving breeds out of training)."
        )
    return Thresholds(not_sure / 100, unknown_below)


st.title("Classify")
model = model_in_use()
if model.notice:
    st.warning(plain(model.notice), icon=":material/warning:")
mine, other = st.columns([3, 1], vertical_alignment="center")
mine.caption(f"Your model: {plain(model.label)}.")
other.page_link("pages/models.py", label="Choose another model", icon=":material/folder_open:")

sources, answers = st.columns([2, 3], gap="large")
with sources:
    camera_tab, upload_tab = st.tabs([":material/photo_camera: Webcam", ":material/image: Upload photos"])
    with camera_tab:
        snapshot = st.camera_input("Snap your cat", key="snapshot")
    with upload_tab:
        uploads = st.file_uploader(
            "Photos of cats",
            type=PHOTO_TYPES,
            accept_multiple_files=True,
            key="photos",
        )

    thresholds = chosen_thresholds(model)
    looked = st.toggle("Show where it looked", key="looked", help="A Grad-CAM heatmap of the answer: a second or two.")

photos = [("Webcam snapshot", snapshot.getvalue())] if snapshot else []
photos += [(upload.name, upload.getvalue()) for upload in uploads or []]
with answers:
    if not photos:
        st.info("Take a snapshot or upload photos to see which breed the model thinks they are.")
    for name, data in photos:
        with st.container(border=True):
            show_prediction(model, name, data, thresholds, looked)

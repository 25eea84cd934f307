import streamlit as st

from catbreed.models.predict import Prediction
from catbreed.models.verdict import NOT_A_CAT, NOT_SURE, UNKNOWN_BREED, Thresholds, headline
from pages.frame.alike import PhotoFinder, kept_data_set_photos, show_map, show_nearest
from pages.frame.language import pct, said, t
from pages.frame.live_camera import answering_camera, newest_frame
from pages.frame.shared import THUMBNAIL, ModelInUse, answer, model_in_use, photo_uploader, plain, where_it_looked

TOP_K = 5
LIVE_KEY = "live-camera"
LAST_FRAME = "live-last-frame"  # (number, JPEG) of the last frame answered, kept for a pause
FRAMES_ANSWERED = "live-frames-answered"  # how many, this session: the frame's name ("Live frame 42")


def show_prediction(
    model: ModelInUse,
    name: str,
    data: bytes,
    thresholds: Thresholds,
    looked: bool,
    pictured: bool = True,
    alike: PhotoFinder | None = None,
) -> Prediction | None:
    """`pictured`: the photo is shown beside its answer (a live frame is not: the video above is
    the picture, and on a phone a second copy would push the answer off the screen). `alike`: where
    the model's own photos are, to show those most like this one. The prediction, if there is one."""
    picture, words = st.columns([1, 2]) if pictured else (None, st.container())
    shown = answer(model, data, TOP_K)
    if shown.prediction is None:
        st.error(t("classify.not_a_photo", name=plain(name), reason=said(shown.problem)))
        return None
    prediction = shown.prediction
    label, probability = prediction.top[0]
    verdict = prediction.judged(thresholds)
    if picture is not None:
        with picture:
            st.image(shown.picture, caption=plain(name), width="stretch")
            if looked:
                heat = where_it_looked(model.predictor.bundle, model.version, data, label, THUMBNAIL)
                st.image(heat, caption=t("classify.where_it_looked"), width="stretch")
    with words:
        st.subheader(plain(said(headline(verdict, label))), anchor=False)
        if verdict == NOT_A_CAT:
            st.caption(t("classify.closest_not_cat"))
        elif verdict == UNKNOWN_BREED:
            st.info(t("classify.unlike_every_breed"), icon=":material/question_mark:")
        elif verdict == NOT_SURE:
            st.info(
                t("classify.not_sure", probability=pct(probability, 0), threshold=pct(thresholds.not_sure_below, 0)),
                icon=":material/help_outline:",
            )
        for breed, p in prediction.top:  # bars, not a chart: a tenth of the server's time per photo
            st.progress(p, text=plain(t("classify.bar", breed=breed, probability=pct(p))))
        st.caption(t("classify.answered_in", ms=round(prediction.seconds * 1000)))
    if alike is not None:
        show_nearest(model.predictor.bundle, prediction, alike)
    return prediction


@st.fragment
def live_answers(
    model: ModelInUse, thresholds: Thresholds, looked: bool, paused: bool, alike: PhotoFinder | None
) -> None:
    """The newest frame's answer first, then the camera told it was answered: a rerun that the next
    frame asks for never cuts an answer short. Paused: the last frame answered stays, the camera
    stops, and where it looked may be shown for that frame (Grad-CAM costs a second, a live frame
    lasts a fifth)."""
    video, words = st.container(), st.container()
    frame = st.session_state.get(LAST_FRAME) if paused else newest_frame(LIVE_KEY)
    if frame is not None and not paused and frame[0] != st.session_state.get(LAST_FRAME, (None,))[0]:
        st.session_state[LAST_FRAME] = frame
        st.session_state[FRAMES_ANSWERED] = st.session_state.get(FRAMES_ANSWERED, 0) + 1
    with words:
        if frame is None:
            st.info(t("classify.live_waiting"), icon=":material/videocam:")
        else:
            with st.container(border=True):
                name = t("classify.live_frame", n=st.session_state.get(FRAMES_ANSWERED, 0))
                if not paused:  # the video above is its picture
                    st.caption(name)
                paused_alike = alike if paused else None  # a live frame lasts a fifth of a second
                show_prediction(model, name, frame[1], thresholds, looked and paused, paused, paused_alike)
    if not paused:
        with video:
            answering_camera(LIVE_KEY, frame[0] if frame else -1, t("camera.blocked"))


def chosen_thresholds(model: ModelInUse) -> Thresholds:
    """The model's own thresholds, as this person moved them with the sliders."""
    defaults, metrics = model.predictor.bundle.metadata.thresholds, model.predictor.bundle.metadata.metrics
    not_sure = st.slider(
        t("classify.not_sure_slider"),
        0,
        100,
        round(100 * defaults.not_sure_below),
        5,
        key=f"not-sure-{model.label}",  # each model starts from its own calibrated default
        help=t("classify.not_sure_help"),
    )
    unknown_below = None
    if metrics and metrics.unknown_curve and defaults.unknown_below is not None:
        default_share = min(metrics.unknown_curve, key=lambda p: abs(p[1] - defaults.unknown_below))[0]
        share = st.slider(
            t("classify.unknown_slider"),
            0,
            round(100 * metrics.unknown_curve[-1][0]),
            round(100 * default_share),
            1,
            key=f"unknown-{model.label}",
            help=t("classify.unknown_help"),
        )
        point = min(metrics.unknown_curve, key=lambda p: abs(p[0] - share / 100))
        unknown_below = point[1]
        st.caption(t("classify.unknown_caption", share=share, own=pct(point[0], 0), unseen=pct(point[2], 0)))
    return Thresholds(not_sure / 100, unknown_below)


st.title(t("classify.title"))
model = model_in_use()
if model.notice:
    st.warning(plain(said(model.notice)), icon=":material/warning:")
mine, other = st.columns([3, 1], vertical_alignment="center")
mine.caption(t("classify.your_model", name=plain(model.label)))
other.page_link("pages/models.py", label=t("classify.choose_another"), icon=":material/folder_open:")

sources, answers = st.columns([2, 3], gap="large")
with sources:
    live = st.toggle(t("classify.live"), key="live", help=t("classify.live_help"))
    paused = live and st.toggle(t("classify.pause"), key="live-paused", help=t("classify.pause_help"))
    camera_tab, upload_tab = st.tabs([t("classify.webcam_tab"), t("classify.upload_tab")])
    with camera_tab:  # one camera at a time: while live answers run, the live one
        snapshot = None if live else st.camera_input(t("classify.snap"), key="snapshot")
        if live:
            st.caption(t("classify.live_in_use"))
    with upload_tab:
        uploads = photo_uploader(st, t("classify.photos"), key="photos", several=True)

    thresholds = chosen_thresholds(model)
    looked = st.toggle(t("classify.show_where"), key="looked", help=t("classify.show_where_help"))
    compared = model.predictor.bundle.neighbours is not None and st.toggle(
        t("classify.alike"), key="alike", help=t("classify.alike_help")
    )
    alike = kept_data_set_photos(model.predictor.bundle) if compared else None

photos = [(t("classify.webcam_snapshot"), snapshot.getvalue())] if snapshot else []
photos += [(upload.name, upload.getvalue()) for upload in uploads or []]
with answers:
    if live:
        live_answers(model, thresholds, looked, paused, alike)
    elif not photos:
        st.info(t("classify.nothing_yet"))
    answered = []
    for name, data in photos:
        with st.container(border=True):
            if prediction := show_prediction(model, name, data, thresholds, looked, alike=alike):
                answered.append((name, prediction))
    if alike is not None and answered:
        st.subheader(t("classify.map"), anchor=False)
        show_map(model.predictor.bundle, model.version, alike, answered, key="map")

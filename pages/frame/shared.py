"""What every page shares: the heavy objects, loaded once per process and kept by Streamlit; the
person's model (session, URL and the choice kept for them); who they are (the pass in their
cookie); the password forms and the photo uploader, the only things drawn here, since every page
must show them alike. The rest only builds or fetches objects from `catbreed`.
"""

from __future__ import annotations

import gc
import io
import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import numpy as np
import streamlit as st
from streamlit import components
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from catbreed.access import (
    IDENTITY_DAYS,
    Pass,
    PassBook,
    Throttle,
    configured_admin_password,
    configured_password,
    password_matches,
)
from catbreed.data.images import PHOTO_TYPES, ImageProblem, open_rgb, thumbnail
from catbreed.housekeeping import Tidied, tidy_up
from catbreed.jobs import JobManager
from catbreed.limits import limits
from catbreed.markdown import escape
from catbreed.messages import Message, message
from catbreed.models.bundle import ModelBundle
from catbreed.models.metadata import BUILTIN_NAME
from catbreed.models.predict import Prediction, Predictor, builtin_bundle
from catbreed.models.store import Choice, ModelStore, SavedModel
from catbreed.nets.backbones import DEFAULT_BACKBONE, create_backbone
from catbreed.nets.runtime import LiteRTExtractor, load_extractor
from catbreed.owners import Visitor
from catbreed.paths import catbreed_home
from pages.frame.language import language, t

if TYPE_CHECKING:
    import keras

WRONG_PASSWORD_PAUSE = 1.0  # seconds
THROTTLE = Throttle()  # one per server: wrong passwords counted per client address, across sessions
MODEL_PARAM = "model"  # ?model=<name> in the URL: this person's model
PASS_COOKIE = "catbreed_pass"
log = logging.getLogger(__name__)


def _secrets() -> dict:
    try:
        return dict(st.secrets)
    except Exception:  # no secrets file at all: Streamlit raises rather than return nothing
        return {}


_PASS_SETTER = components.v2.component(
    "catbreed.pass_cookie",
    html="<p></p>",
    js="""
export default function ({ data, parentElement }) {
  const cookie = `${data.name}=${data.value}`;
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${cookie}; Max-Age=${data.max_age}; Path=/; SameSite=Strict${secure}`;
  // A browser that refuses the cookie would reload for ever: three tries a minute, then say why.
  const now = Date.now();
  const recent = JSON.parse(sessionStorage.getItem("catbreed-reloads") || "[]").filter((t) => now - t < 60000);
  if (document.cookie.split("; ").includes(cookie) && recent.length < 3) {
    sessionStorage.setItem("catbreed-reloads", JSON.stringify([...recent, now]));
    location.reload();
  } else {
    parentElement.querySelector("p").textContent = data.blocked;
  }
}
""",
)


class BrowserCookie:
    """The pass cookie of the browser behind this run. Streamlit reads cookies only from the request
    that opened the session, and sets none: a few lines of JavaScript set it, then reload the page
    so that the new session's request carries it. Tests put a stand-in here (AppTest has no browser)."""

    def get(self) -> str | None:
        value = st.context.cookies.get(PASS_COOKIE)
        return value if isinstance(value, str) else None

    def set(self, token: str) -> None:
        data = {
            "name": PASS_COOKIE,
            "value": token,
            "max_age": IDENTITY_DAYS * 86400,
            "blocked": t("frame.cookies_blocked"),
        }
        _PASS_SETTER(data=data, key="pass-cookie")


COOKIE = BrowserCookie()


@st.cache_resource(show_spinner=False)
def _pass_book(home: str) -> PassBook:
    return PassBook(Path(home))


def pass_book() -> PassBook:
    return _pass_book(str(catbreed_home()))


def current_pass() -> Pass | None:
    """This browser's pass, checked now: on every run, so a session id without the cookie is no one."""
    return pass_book().read(COOKIE.get())


def admitted() -> bool:
    """Whether this run may show pages: a valid pass, signed in when the operator set a password."""
    visitor_pass = current_pass()
    return visitor_pass is not None and (configured_password(_secrets()) is None or visitor_pass.signed_in())


def keep_pass(token: str) -> NoReturn:
    """Give the browser `token` as its cookie; the page reloads with it."""
    COOKIE.set(token)
    st.caption(t("frame.one_moment"))
    st.stop()


def let_in() -> NoReturn:
    """For a run that may not show pages: the sign-in form, or a first pass for a new browser."""
    visitor_pass = current_pass()
    if configured_password(_secrets()) is None:
        keep_pass(pass_book().issue())
    st.title("catbreed")
    if address := password_form("sign-in", t("frame.open"), configured_password(_secrets())):
        token = pass_book().issue(visitor_pass.identity if visitor_pass else None, sign_in=True)
        # Logged where the operator looks, with the identity `catbreed passes revoke` takes.
        log.warning("signed in: identity %s from %s", pass_book().read(token).identity, address)
        keep_pass(token)
    st.stop()


def _client_address() -> str:
    # None on localhost; behind a reverse proxy every visitor has the proxy's address (one count for all).
    return st.context.ip_address if isinstance(st.context.ip_address, str) else "local"


def password_form(key: str, button: str, password: str) -> str | None:
    """A password form; the client's address once the right password is given, else None. Wrong
    ones are counted per address (THROTTLE), across sessions, and slowed down."""
    address = _client_address()
    with st.form(key):
        given = st.text_input(t("frame.password"), type="password", help=t("frame.password_help"))
        if not st.form_submit_button(button, type="primary"):
            return None
    if wait := THROTTLE.wait_seconds(address):
        st.error(t("frame.too_many_wrong", seconds=round(wait)))
    elif password_matches(given, password):
        THROTTLE.succeeded(address)
        return address
    else:
        THROTTLE.failed(address)
        time.sleep(WRONG_PASSWORD_PAUSE)  # guessing by the thousand takes hours, not seconds
        st.error(t("frame.wrong_password"))
    return None


def visitor() -> Visitor:
    """Who is asking, for the owner rules: only ever from the checked pass of this run."""
    visitor_pass = current_pass()
    if visitor_pass is None:  # app.py admits no run without one; a page run on its own is stopped here
        let_in()
    admin_password = configured_admin_password(_secrets())
    return Visitor(
        visitor_pass.identity, admin_password is not None and visitor_pass.admin(), admin_password is not None
    )


def operator_form() -> None:
    """Where the operator becomes the operator (the admin password) or stops being one."""
    admin_password = configured_admin_password(_secrets())
    if admin_password is None:
        st.caption(t("frame.no_admin_password"))
        return
    visitor_pass = current_pass()
    if visitor().admin:
        st.caption(t("frame.acting_operator"))
        if st.button(t("frame.stop_operator"), key="operator-off"):
            keep_pass(pass_book().issue(visitor_pass.identity, sign_in=visitor_pass.signed_in()))
        return
    if address := password_form("operator", t("frame.act_operator"), admin_password):
        log.warning("acting as the operator: identity %s from %s", visitor_pass.identity, address)
        keep_pass(pass_book().issue(visitor_pass.identity, sign_in=visitor_pass.signed_in(), admin=True))


def sign_out_button() -> None:
    """In the sidebar, for a signed-in browser: the pass it has, and every copy of it, stop working."""
    visitor_pass = current_pass()
    if visitor_pass is None or not (visitor_pass.signed_in() or visitor_pass.admin()):
        return
    if st.sidebar.button(t("frame.sign_out"), icon=":material/logout:", key="sign-out"):
        pass_book().sign_out(visitor_pass.identity)
        keep_pass(pass_book().issue(visitor_pass.identity))


@st.cache_resource(ttl=24 * 3600, show_spinner=False)
def _tidied_up(home: str) -> Tidied:
    return tidy_up(Path(home))


def tidied_up() -> Tidied:
    """Once per server start and day: what a crash left behind, and what nobody needs any more."""
    return _tidied_up(str(catbreed_home()))


@dataclass(frozen=True)
class PageEntry:
    path: str
    title: str  # the code of its name in the menu
    icon: str
    invitation: str  # the code of Home's link to it


PAGES = [  # the menu (app.py) and Home's links read this one list
    PageEntry("pages/home.py", "page.home", ":material/home:", "page.home.invitation"),
    PageEntry("pages/classify.py", "page.classify", ":material/photo_camera:", "page.classify.invitation"),
    PageEntry("pages/train.py", "page.train", ":material/model_training:", "page.train.invitation"),
    PageEntry("pages/models.py", "page.models", ":material/folder_open:", "page.models.invitation"),
    PageEntry("pages/learn.py", "page.learn", ":material/school:", "page.learn.invitation"),
]


# Spinners are the callers' (st.spinner shows only after half a second: a cached call shows none),
# since a cached function's own spinner text is fixed when the module loads, in one language.
@st.cache_resource(show_spinner=False)
def _backbone(name: str) -> keras.Model:
    network = create_backbone(name)
    _keep_out_of_collections()  # TensorFlow and Keras: 385,000 objects more
    return network


def backbone(name: str = DEFAULT_BACKBONE) -> keras.Model:
    """The Keras network, for what needs gradients or pictures of its layers: TensorFlow is imported
    here, on first use, and never by a page that only classifies."""
    with st.spinner(t("frame.loading_cnn")):
        return _backbone(name)


@st.cache_resource(show_spinner=False)
def _extractor(name: str) -> LiteRTExtractor:
    return load_extractor(name)


def extractor(name: str = DEFAULT_BACKBONE) -> LiteRTExtractor:
    with st.spinner(t("frame.preparing_cnn")):
        return _extractor(name)


_JOB_MANAGER: JobManager | None = None
_JOB_MANAGER_LOCK = threading.Lock()


def job_manager() -> JobManager:
    """One queue of trainings for the whole server, run in a worker process beside it. Kept here, not
    in st.cache_resource: any browser session, a signed-out one too, may send Streamlit's
    `clear_cache`, which would drop every queued, running and unsaved training and start a second
    cluster beside the first."""
    global _JOB_MANAGER
    with _JOB_MANAGER_LOCK:
        if _JOB_MANAGER is None:
            _JOB_MANAGER = JobManager()
        return _JOB_MANAGER


@st.cache_resource(show_spinner=False, max_entries=8)
def _predictor(name: str | None, created: str) -> Predictor:
    """One predictor per saved model version (`created` changes when a name is reused), shared by
    everyone who uses that model; a few stay loaded, so several people's models can be in use."""
    bundle = builtin_bundle() if name is None else ModelStore().load(name)
    predictor = Predictor(bundle, extractor(bundle.backbone))
    predictor.warm_up()
    return predictor


@dataclass(frozen=True)
class ModelInUse:
    """The model of this browser session, loaded: what Classify, Learn and Home work with."""

    predictor: Predictor
    saved: SavedModel | None  # None: the built-in ImageNet model
    notice: Message | None  # why it is not the model the person chose, to show on the page

    @property
    def label(self) -> str:
        return self.saved.name if self.saved else t("builtin.name")

    @property
    def version(self) -> tuple[str, str]:
        """What names this model and no other, even if someone saves another under its name."""
        return (self.saved.name, self.saved.created) if self.saved else ("", BUILTIN_NAME)


def use_model(choice: str | None) -> None:
    """Make `choice` (a saved model's name, BUILTIN, or None: follow the server's default) this
    session's model, kept in the URL so that a reload or a shared link keeps it."""
    if choice is None:
        st.session_state.pop(MODEL_PARAM, None)
        st.query_params.pop(MODEL_PARAM, None)
    else:
        st.session_state[MODEL_PARAM] = choice
        st.query_params[MODEL_PARAM] = choice


def keep_model_choice(choice: str) -> None:
    """The person chose `choice` themselves: this session's model, and theirs on later visits too."""
    use_model(choice)
    ModelStore().keep_choice(visitor().identity, choice)


def chosen_model() -> Choice:
    """This session's choice: the URL's, else the one made earlier in the session (switching pages
    drops the URL's parameters), else the one this person last made themselves, on any visit, else
    the server's default. A choice that is gone is dropped (and forgotten, once said)."""
    store, who = ModelStore(), visitor()
    wanted = st.query_params.get(MODEL_PARAM) or st.session_state.get(MODEL_PARAM)
    kept = store.kept_choice(who.identity) if wanted is None else None
    asked = wanted or kept
    choice = store.choose(asked, who)
    if choice.notice and kept:
        store.keep_choice(who.identity, None)
    use_model(None if choice.notice else asked)
    return choice


def model_in_use() -> ModelInUse:
    """This session's model, loaded; a model that cannot be loaded gives the built-in one and a
    notice, so a damaged model never breaks a page."""
    choice = chosen_model()
    if choice.model is None:
        return ModelInUse(_predictor(None, ""), None, choice.notice)
    try:
        return ModelInUse(_predictor(choice.model.name, choice.model.created), choice.model, choice.notice)
    except Exception as error:  # whatever a damaged file raises, the page must go on
        log.warning("model %r cannot be loaded: %s", choice.model.name, error)  # the details: for the operator
        return ModelInUse(_predictor(None, ""), None, message("frame.model_damaged", name=choice.model.name))


@st.cache_data(max_entries=16, show_spinner=False)
def _where_it_looked(photo: bytes, label: str, size: int, model_version: tuple[str, str], _bundle) -> np.ndarray:
    from catbreed.explain import gradcam  # Keras and TensorFlow: only once someone asks

    return gradcam.where_it_looked(_bundle, backbone(_bundle.backbone), photo, label, size=size)


def where_it_looked(bundle: ModelBundle, version: tuple[str, str], photo: bytes, label: str, size: int) -> np.ndarray:
    """uint8 (size, size, 3): the photo with a Grad-CAM heatmap of `bundle`'s answer `label`, made
    once per photo, answer and model `version` (what names this bundle and no other: a saved model's
    name and date, a training's id), whichever page asks."""
    with st.spinner(t("frame.finding_where")):
        return _where_it_looked(photo, label, size, version, bundle)


THUMBNAIL = 320  # pixels a side, as Classify shows a photo


def _jpeg(image) -> bytes:
    """A picture as the JPEG bytes a page sends as they are (Streamlit would encode a PIL image again
    on every run)."""
    encoded = io.BytesIO()
    image.save(encoded, format="JPEG", quality=90)
    return encoded.getvalue()


@st.cache_data(max_entries=2048, show_spinner=False)
def _small_copy(path: str, changed_ns: int, size: int) -> bytes | None:
    try:
        return _jpeg(thumbnail(Path(path), size))
    except (ImageProblem, OSError):  # unreadable, or removed meanwhile
        return None


def small_copy(path: Path, size: int = 120) -> bytes | None:
    """A photo of a data set as a small JPEG, made once per file version and size (the Train page
    shows a dozen of them on every run; a 40-megapixel PNG takes half a second to decode); None
    when the file cannot be shown."""
    try:
        changed = path.stat().st_mtime_ns
    except OSError:
        return None
    return _small_copy(str(path), changed, size)


@dataclass(frozen=True)
class Answer:
    """What Classify shows of one photo: the model's answer and the picture, or why it has none."""

    prediction: Prediction | None
    picture: bytes | None  # a JPEG, encoded once: the page sends these bytes as they are
    problem: Message | None = None


@st.cache_data(max_entries=64, show_spinner=False)
def _answer(photo: bytes, top_k: int, model_version: tuple[str, str], _predictor: Predictor) -> Answer:
    try:
        image = open_rgb(photo, draft_size=THUMBNAIL)  # the one decode: the model and the picture share it
    except ImageProblem as problem:
        return Answer(None, None, problem.reason)
    return Answer(_predictor.predict(image, top_k), _jpeg(thumbnail(image, THUMBNAIL)))


def answer(model: ModelInUse, photo: bytes, top_k: int) -> Answer:
    """One decode and one forward pass per photo and model, remembered: moving a slider, turning a
    toggle or a second person with the same photo costs no second pass."""
    return _answer(photo, top_k, model.version, model.predictor)


def expected_accuracy_text(model: SavedModel) -> str:
    """'expected accuracy on new photos 90.7% (87.2%-93.9%)', the words Home and Models share."""
    expected = model.expected_accuracy
    return (
        t("frame.expected_accuracy", estimate=expected.describe(language())) if expected else t("frame.not_estimated")
    )


MODE_WORDS = {"quick": "train.mode.quick", "accurate": "train.mode.accurate"}  # learn/settings.MODES' words


def mode_name(mode: str | None) -> str:
    """A training mode as the person's language names it; an unknown one (older models) as it is."""
    return t(MODE_WORDS[mode]) if mode in MODE_WORDS else (mode or "?")


def photo_uploader(where, label: str, *, key: str, several: bool = False):
    """A file uploader for photos: the types the library opens, and a file larger than one photo may
    be is refused by the browser before it is sent (and says the limit), not after. The library
    checks every file again."""
    return where.file_uploader(
        label,
        type=list(PHOTO_TYPES),
        accept_multiple_files=several,
        key=key,
        max_upload_size=math.ceil(limits().file_mb),
    )


def plain(text: object) -> str:
    """User text (breed and file names) made safe for Markdown: every special character escaped."""
    return escape(text)


def _leave_the_pages_folder_mode() -> None:
    """Streamlit serves the first request after start-up in its old pages/-folder mode (the folder
    exists and st.navigation has not run yet): it runs pages/<name>.py on its own, or app.py as one
    page among the files of pages/, all of them in the menu. That run is the one that first imports
    this module, whichever page it asked for, so here, once, the mode is left and the run started
    again, through app.py's navigation, to the page asked for. Streamlit offers no public switch:
    this is the one place that touches its PagesManager; tests/test_app.py and the browser tests
    fail the day it changes."""
    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False
        st.rerun()


def _keep_out_of_collections() -> None:
    """Keep every object that exists now (the libraries imported, the networks built: they last as
    long as the server) out of all later garbage collections. Streamlit runs a full collection after
    each run of any page, and Keras's clear_session another once Keras is imported: over what the
    libraries hold, that cost the server 0.09 s of CPU per run (217,000 objects), 0.36 s once
    TensorFlow was loaded (385,000 more), for every person's every click. Frozen, a collection
    scans only what the runs made since: microseconds. The garbage of now is collected first."""
    gc.collect()
    gc.freeze()


_keep_out_of_collections()
_leave_the_pages_folder_mode()

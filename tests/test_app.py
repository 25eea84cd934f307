"""Every page through Streamlit's AppTest: real scripts, real library, no browser."""

import time
from pathlib import Path

import pytest
from conftest import drawn_photo, jpeg_bytes
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from catbreed.access import PassBook, Throttle
from catbreed.data.saved_datasets import DatasetStore
from catbreed.errors import CatbreedError
from catbreed.jobs import JobManager
from catbreed.models.store import BUILTIN, ModelStore
from catbreed.paths import catbreed_home

TIMEOUT = 120
APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture(autouse=True, scope="module")
def trainings_in_this_process():
    """The pages' job manager, its Dask cluster in threads of this process instead of a worker
    process that imports the networks (test_jobs, test_cluster_security and the browser tests
    cover the real one): the same queue, events and results, seconds sooner."""
    import pages.frame.shared as frame

    manager = JobManager(processes=False, warm_up=None)
    frame._JOB_MANAGER = manager
    yield manager
    frame._JOB_MANAGER = None
    manager.close()


@pytest.fixture(autouse=True, scope="module")
def components_scanned_once():
    """A server scans every installed package for Streamlit components once, at its start; each
    AppTest does it at its first run (about 0.3 s over this machine's 800 packages, most of this
    module's time). The packages do not change during a test run, so they are scanned once."""
    from streamlit.components.v2 import manifest_scanner

    found = manifest_scanner.scan_component_manifests()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests", lambda *args, **kwargs: list(found))
        yield


@pytest.fixture(autouse=True)
def served_like_a_running_server(monkeypatch):
    """AppTest resets Streamlit's pages-folder switch before every run, so each run would be a
    server's very first request, which the frame turns around once per process, at its import
    (browser tests check that). A running server leaves that mode for good at its first request:
    here, too."""
    monkeypatch.setattr(PagesManager, "__init__", navigated(PagesManager.__init__))


def navigated(init):
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    return __init__


class BrowserCookie:
    """The browser's pass cookie, since AppTest has no browser: what a page sets, the next run sends."""

    def __init__(self):
        self.value: str | None = None

    def get(self) -> str | None:
        return self.value

    def set(self, token: str) -> None:
        self.value = token


@pytest.fixture
def cookie(monkeypatch) -> BrowserCookie:
    jar = BrowserCookie()
    monkeypatch.setattr("pages.frame.shared.COOKIE", jar)
    return jar


def identity(cookie: BrowserCookie) -> str:
    """Who the app takes the browser with this cookie for."""
    return PassBook(catbreed_home()).read(cookie.value).identity


@pytest.fixture
def app(own_home, cookie):
    cookie.value = PassBook(own_home).issue()  # a browser that has been here before
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def test_a_new_browser_is_given_a_pass_before_any_page(own_home, cookie):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert PassBook(own_home).read(cookie.value) is not None  # set by the page's script, which then reloads
    assert not at.title and "One moment…" in texts(at)
    at.run()  # the reload, with the cookie
    assert [t.value for t in at.title] == ["catbreed"] and not at.exception


def texts(at) -> str:
    parts = [
        e.value for kind in ("markdown", "caption", "text", "subheader", "title", "header") for e in getattr(at, kind)
    ]
    parts += [e.value for kind in ("success", "info", "warning", "error") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_home_says_what_the_app_does_and_which_model_is_in_use(app):
    assert app.title[0].value == "catbreed"
    assert "ImageNet (built-in)" in texts(app)


def test_classify_a_webcam_snapshot_with_the_builtin_model(app, lite0_backbone):
    app.switch_page("pages/classify.py").run()
    assert "Take a snapshot" in texts(app)
    app.camera_input(key="snapshot").set_value(("snap.jpg", jpeg_bytes(drawn_photo("blue_squares", 1)), "image/jpeg"))
    app.run()
    assert not app.exception
    assert app.subheader[0].value == "This doesn't look like a cat"  # the verdict leads, not a breed
    assert "Answered in" in texts(app)
    bars = [bar.proto.text for bar in app.get("progress")]
    assert len(bars) == 5 and all(text.endswith("%") for text in bars)  # each of the 5 answers with its number
    assert len(app.get("image")) == 1  # the photo; where it looked costs a Keras pass, so only on request
    app.toggle(key="looked").set_value(True).run()
    assert len(app.get("image")) == 2 and not app.exception


def test_classify_uploaded_photos_including_a_broken_one(app, lite0_backbone, cat_photo):
    app.switch_page("pages/classify.py").run()
    app.file_uploader(key="photos").set_value(
        [("cat.jpg", cat_photo.read_bytes(), "image/jpeg"), ("broken.jpg", b"nope", "image/jpeg")]
    )
    app.run()
    assert not app.exception
    assert app.subheader[0].value == "Siamese cat"
    assert "broken.jpg cannot be used as a photo: not an image" in texts(app).replace("\\", "")


def wait_for(at, condition, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not condition(at):
        assert time.monotonic() < deadline, texts(at)
        time.sleep(0.5)
        at.run()
    return at


def test_train_from_a_zip_then_save_and_use_the_model(app, lite0_backbone, shapes_zip, tmp_path):
    app.switch_page("pages/train.py").run()
    app.file_uploader(key="upload").set_value(("shapes.zip", shapes_zip.read_bytes(), "application/zip"))
    app.run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"Breeds": "3", "Photos": "36", "Skipped": "0", "Duplicates": "0"}

    assert app.query_params["data"]  # the photos are kept: a reload finds them again
    app.slider[0].set_value(25)  # test %
    next(b for b in app.button if b.label == "Train").click().run()
    wait_for(app, lambda at: any("Trained on" in s.value for s in at.success))
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Held-out test photos"] == "100.0%"
    assert metrics["Expected accuracy on new photos"].endswith("%") and "–" in metrics["95% interval"]
    assert app.query_params["job"]  # a reload finds the job again

    next(t for t in app.text_input if t.label == "Model name").set_value("my shapes")
    next(b for b in app.button if b.label == "Save and use this model").click().run()
    assert ModelStore().find("my shapes") is not None
    assert app.query_params["model"] == "my shapes"  # this person's model, not everyone's
    assert ModelStore().default() is None
    assert "now your model" in texts(app)

    saved = ModelStore().list()[0]
    app.switch_page("pages/home.py").run()
    assert f"3 breeds · expected accuracy on new photos {saved.expected_accuracy.describe()}" in texts(app)
    assert "test accuracy" not in texts(app).lower()


def test_breeds_whose_names_hold_arrows_and_colons_train_and_their_photos_are_looked_at(app, lite0_backbone, tmp_path):
    """'A → B' once broke "Photos to look at" (its choices were split at the arrow)."""
    from conftest import make_dataset_folder, zip_folder

    from pages.training.results import Look, Pick

    root = make_dataset_folder(tmp_path / "odd", per_class=4, kinds=("red_circles", "blue_squares"))
    (root / "red_circles").rename(root / "A → B")
    (root / "blue_squares").rename(root / "Persian: long hair")
    archive = zip_folder(root, tmp_path / "odd.zip")
    app.switch_page("pages/train.py").run()
    app.file_uploader(key="upload").set_value(("odd.zip", archive.read_bytes(), "application/zip")).run()
    next(b for b in app.button if b.label == "Train").click().run()
    wait_for(app, lambda at: any("Trained on" in s.value for s in at.success))
    look = next(s for s in app.selectbox if s.label == "Photos to look at")
    cell = Pick(Look.CELL, "A → B", "A → B")
    assert cell.describe() in look.options
    look.set_value(cell).run()
    assert not app.exception and "A → B taken for A → B" in [h.value for h in app.subheader]
    assert any(c.value.startswith("A → B/") for c in app.caption)


def test_a_data_set_built_in_the_page_from_nothing(app, tmp_path):
    from catbreed.data.saved_datasets import DatasetStore

    app.switch_page("pages/train.py").run()
    next(t for t in app.text_input if t.label == "Name of the new data set").set_value("webcam cats")
    next(b for b in app.button if b.label == "Create it").click().run()
    assert not app.exception and app.query_params["data"]
    assert "Add at least two breeds with at least 2 photos each" in texts(app)  # not the zip's words
    assert "Found no breed folders" not in texts(app)
    assert not app.get("camera_input")  # the webcam opens only when asked for
    (saved,) = DatasetStore().list()
    for breed in ("Red", "Blue"):
        next(t for t in app.text_input if t.label == "Add a breed").set_value(breed)
        next(b for b in app.button if b.label == "Add breed").click().run()
    assert saved.breeds() == ["Blue", "Red"]
    for breed, kind in (("Blue", "blue_squares"), ("Red", "red_circles")):
        app.selectbox(key="add-to").set_value(breed).run()
        photos = [(f"{kind}{i}.jpg", jpeg_bytes(drawn_photo(kind, i)), "image/jpeg") for i in range(3)]
        app.file_uploader(key=f"data-photos-{breed}").set_value(photos).run()
    assert not app.exception and saved.counts() == {"Blue": 3, "Red": 3}
    assert {m.label: m.value for m in app.metric}["Photos"] == "6"  # the report follows the data set
    next(b for b in app.button if b.label == "Remove").click().run()
    assert sum(saved.counts().values()) == 5 and not app.exception
    app.file_uploader(key="data-photos-Red").set_value([("bad.jpg", b"not a photo", "image/jpeg")]).run()
    assert "'bad.jpg' cannot be used as a photo: not an image" in app.error[0].value.replace("\\", "")


def test_every_photo_uploader_has_the_browser_refuse_a_file_larger_than_a_photo_may_be(app, cookie, monkeypatch):
    from catbreed.data.saved_datasets import DatasetStore

    monkeypatch.setenv("CATBREED_FILE_MB", "12.5")  # the operator's limit, read on each run
    saved = DatasetStore().create("cats", owner=identity(cookie))
    saved.add_breed("Red")
    app.query_params["data"] = saved.id
    limits = {}
    for page in ("pages/classify.py", "pages/train.py"):  # Learn's: its test (it loads the real network)
        app.switch_page(page).run()
        assert not app.exception
        limits |= {u.proto.label: u.proto.max_upload_size_mb for u in app.get("file_uploader")}
    assert limits == {"Photos of cats": 13, "Or upload photos": 13}


def test_a_photo_the_server_could_not_keep_is_kept_on_a_later_run(app, cookie, monkeypatch):
    """It was once marked as added before it was stored: a photo that failed was skipped for good."""
    from catbreed.data.saved_datasets import DatasetStore, SavedDataset

    saved = DatasetStore().create("cats", owner=identity(cookie))
    saved.add_breed("Red")
    app.query_params["data"] = saved.id
    app.switch_page("pages/train.py").run()
    real_add, full = SavedDataset.add_photo, [True]

    def add_on_a_full_disk(self, breed, data, file_name="photo"):
        if full[0]:
            raise CatbreedError(f"'{file_name}' could not be kept on the server (No space left on device).")
        return real_add(self, breed, data, file_name)

    monkeypatch.setattr(SavedDataset, "add_photo", add_on_a_full_disk)
    photo = [("red.jpg", jpeg_bytes(drawn_photo("red_circles", 1)), "image/jpeg")]
    app.file_uploader(key="data-photos-Red").set_value(photo).run()
    assert "could not be kept on the server" in app.error[0].value and saved.counts() == {"Red": 0}
    full[0] = False  # space freed
    app.run()
    assert saved.counts() == {"Red": 1} and not app.error
    app.run()
    assert saved.counts() == {"Red": 1}  # and only once


def test_a_data_set_is_deleted_by_its_owner_and_then_gone_from_the_page(app, cookie):
    from catbreed.data.saved_datasets import DatasetStore

    saved = DatasetStore().create("old cats", owner=identity(cookie))
    saved.add_breed("Red")
    app.query_params["data"] = saved.id
    app.switch_page("pages/train.py").run()
    app.button(key="delete-data-set").click().run()
    assert not app.exception and DatasetStore().get(saved.id) is None
    assert "data" not in app.query_params and app.tabs[0].label == "Upload a zip"


def test_a_stale_job_link_says_the_training_is_gone(app):
    app.query_params["job"] = "0123456789ab"
    app.switch_page("pages/train.py").run()
    assert not app.exception
    assert "That training is not on this server" in app.warning[0].value


def test_a_bad_zip_gives_an_error_not_a_traceback(app):
    app.switch_page("pages/train.py").run()
    app.file_uploader(key="upload").set_value(("cats.zip", b"this is not a zip", "application/zip"))
    app.run()
    assert not app.exception
    assert "cats.zip' is not a readable zip archive" in app.error[0].value.replace("\\", "")


def test_models_page_switches_this_persons_model_and_only_on_purpose_everyones(app, trained, tmp_path):
    store = ModelStore()
    store.save(trained.bundle, "shapes v1")
    app.switch_page("pages/models.py").run()
    assert not app.exception
    assert app.selectbox[0].value == BUILTIN  # nobody chose: the server's default, the built-in model
    app.selectbox[0].set_value("shapes v1").run()
    assert app.query_params["model"] == "shapes v1" and store.default() is None
    app.switch_page("pages/classify.py").run()
    assert "Your model: shapes v1" in texts(app).replace("\\", "")
    app.switch_page("pages/models.py").run()
    next(b for b in app.button if b.label == "Make it the default for everyone").click().run()
    assert store.default_name() == "shapes v1"


def test_a_returning_person_gets_the_model_they_chose_and_nobody_else_does(app, cookie, trained):
    store = ModelStore()
    store.save(trained.bundle, "shapes v1")
    app.switch_page("pages/models.py").run()
    app.selectbox[0].set_value("shapes v1").run()

    def next_visit():  # a new session of the browser with the cookie, at a bookmark of /classify
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.switch_page("pages/classify.py").run()
        assert not at.exception
        return at

    assert "Your model: shapes v1" in texts(next_visit()).replace("\\", "")
    mine = cookie.value
    cookie.value = PassBook(catbreed_home()).issue()  # another person, on the same server
    assert "Your model: ImageNet (built-in)" in texts(next_visit()).replace("\\", "")
    cookie.value = mine
    store.delete("shapes v1")
    assert "The model 'shapes v1' is not here" in next_visit().warning[0].value.replace("\\", "")  # said once,
    last = next_visit()
    assert not last.warning and "Your model: ImageNet (built-in)" in texts(last).replace("\\", "")  # then forgotten


def test_a_deleted_model_falls_back_to_the_default_with_a_notice(app, trained, tmp_path):
    store = ModelStore()
    store.save(trained.bundle, "mine")
    store.save(trained.bundle, "everyone's")
    store.set_default("everyone's")
    app.query_params["model"] = "mine"  # a link or a reload with this person's model
    app.switch_page("pages/classify.py").run()
    assert "Your model: mine" in texts(app)
    store.delete("mine")  # by someone else, on the Models page
    app.switch_page("pages/classify.py").run()
    assert not app.exception
    notice = app.warning[0].value.replace("\\", "")
    assert (
        "The model 'mine' is not here (deleted, or not shared with you); you now use the default, 'everyone's'"
        in notice
    )
    assert "Your model: everyone's" in texts(app).replace("\\", "")
    assert "model" not in app.query_params  # back to following the default
    app.run()
    assert not app.warning  # said once


def test_a_model_that_cannot_be_loaded_never_breaks_the_page(app, trained, tmp_path, lite0_extractor):
    # lite0_extractor: the fallback is the built-in ImageNet model, on the real network
    store = ModelStore()
    store.save(trained.bundle, "broken")
    (store.path("broken") / "head.npz").write_bytes(b"damaged")
    store.set_default("broken")
    for page in ("pages/classify.py", "pages/home.py"):
        app.switch_page(page).run()
        assert not app.exception
    app.switch_page("pages/classify.py").run()
    assert "The model 'broken' cannot be loaded" in app.warning[0].value.replace("\\", "")


def test_models_page_compares_models_and_exports_a_checked_package(app, trained, tmp_path):
    from dataclasses import replace

    store = ModelStore()
    store.save(trained.bundle, "shapes v1")
    metrics = trained.bundle.metadata.metrics
    worse = replace(metrics, expected_accuracy=replace(metrics.expected_accuracy, value=0.8, low=0.7, high=0.9))
    store.save(replace(trained.bundle, metadata=replace(trained.bundle.metadata, metrics=worse)), "shapes v2")
    app.switch_page("pages/models.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert sorted(table["name"]) == ["shapes v1", "shapes v2"] and set(table["expected accuracy"]) == {
        0.8,
        trained.estimate.value,
    }
    assert [s.label for s in app.selectbox][1:3] == ["First", "Second"]
    assert "Only **shapes v1** got right: 0 photos" in texts(app).replace("\\", "")  # same photos: compared one by one
    next(b for b in app.button if b.label == "Export and check").click().run()
    assert not app.exception
    assert any(
        "answers as the app does: same top breed and verdict on 100.0% of 16 photos" in s.value for s in app.success
    )
    assert any(t.label == "Model card" for t in app.tabs)
    assert not any("open its photos" in m.value for m in app.markdown)  # trained from a folder, not kept here
    assert any(m.value.startswith("# shapes v") for m in app.markdown)


def test_models_of_the_same_breeds_are_compared_first_and_a_breed_one_lacks_is_blank(
    app, trained, tmp_path, shapes_folder, extractor, standin_settings
):
    import math

    from catbreed.data.dataset import check_folder
    from catbreed.learn.training import train

    two = check_folder(shapes_folder)
    two.classes, two.photos = two.classes[:2], [p for p in two.photos if p.label in two.classes[:2]]
    store = ModelStore()
    store.save(trained.bundle, "three shapes")
    store.save(train(two, standin_settings, extractor=extractor).bundle, "two shapes")  # newest
    store.save(trained.bundle, "three again")  # newest of all
    app.switch_page("pages/models.py").run()
    assert not app.exception
    first, second = app.selectbox(key="compare-first"), app.selectbox(key="compare-second")
    assert {first.value, second.value} == {"three again", "three shapes"}  # the same breeds, not the newest two
    second.set_value("two shapes").run()
    frame = next(d.value for d in app.dataframe if "change" in d.value.columns)
    lacking = frame[frame["breed"] == trained.bundle.classes[2]]
    assert math.isnan(lacking["recall: two shapes"].iloc[0]) and math.isnan(lacking["change"].iloc[0])


def test_classify_links_to_the_models_page(app):
    app.switch_page("pages/classify.py").run()
    assert [link.proto.page for link in app.get("page_link")] and not app.exception


def test_classify_starts_from_the_models_own_not_sure_threshold(app, trained, tmp_path):
    store = ModelStore()
    store.save(trained.bundle, "shapes")
    store.set_default("shapes")
    app.switch_page("pages/classify.py").run()
    assert not app.exception
    assert app.slider[0].value == round(100 * trained.bundle.metadata.metrics.not_sure_below)


def test_learn_page_explains_each_step_on_the_real_network(app, lite0_backbone):
    app.switch_page("pages/learn.py").run()
    assert not app.exception
    headers = [h.value for h in app.header]
    assert len(headers) == 12 and headers[0] == "1. The perceptron" and headers[8] == "9. Where it looked"
    assert headers[9:] == [
        "10. Click through the network",
        "11. What a channel looks for",
        "12. From features to breeds",
    ]
    assert any("≥" in c.value or "<" in c.value for c in app.code)  # the perceptron's sum, written out
    steps = next(m.value for m in app.markdown if "The network's own value at this place" in m.value)
    relu, own = (line.rsplit("**", 2)[-2] for line in steps.splitlines()[-2:])
    assert relu == own  # the unit's numbers, step by step, end at the network's own value
    assert any("The built-in model has no head of its own" in m.value for m in app.markdown)
    app.selectbox[0].set_value("blur").run()
    assert not app.exception
    assert any(c.value.startswith("output[") and "×0.111111" in c.value for c in app.code)


def test_learn_page_uses_a_webcam_snapshot_only_when_asked(app, lite0_backbone, cat_photo):
    app.switch_page("pages/learn.py").run()
    (upload,) = app.get("file_uploader")
    assert upload.proto.max_upload_size_mb == 50  # a photo's limit, refused by the browser
    assert not app.get("camera_input")  # no webcam until the person switches it on
    app.toggle(key="learn_camera").set_value(True).run()
    app.camera_input(key="learn_snapshot").set_value(("snap.jpg", cat_photo.read_bytes(), "image/jpeg"))
    app.run()
    assert not app.exception
    assert any("Siamese cat" in m.value for m in app.markdown)  # Grad-CAM names the answer it explains


def test_models_page_deletes_a_model_after_confirmation(app, trained, tmp_path):
    store = ModelStore()
    store.save(trained.bundle, "old shapes")
    app.switch_page("pages/models.py").run()
    next(b for b in app.button if b.label == "Delete…").click().run()
    next(b for b in app.button if b.label == "Keep it").click().run()
    assert [m.name for m in store.list()] == ["old shapes"]  # asking is not deleting
    next(b for b in app.button if b.label == "Delete…").click().run()
    next(b for b in app.button if b.label == "Delete").click().run()
    assert not app.exception
    assert store.list() == []


def test_cancel_button_stops_a_running_training(app, cookie, lite0_backbone, tmp_path):
    from conftest import make_dataset_folder

    from catbreed.data.dataset import check_folder
    from catbreed.jobs import CANCELLED, RUNNING
    from catbreed.learn.settings import TrainSettings
    from catbreed.progress import FEATURES
    from pages.frame.shared import job_manager

    many = make_dataset_folder(tmp_path / "many", per_class=150)  # seconds of features to compute
    job = job_manager().submit(check_folder(many), TrainSettings(), owner=identity(cookie))
    deadline = time.monotonic() + TIMEOUT
    while not (job.state == RUNNING and job.latest and job.latest.stage == FEATURES):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    app.query_params["job"] = job.id  # as a reload of the page that started it
    app.switch_page("pages/train.py").run()
    assert not app.exception
    assert app.get("progress") and "Computing features:" in app.get("progress")[0].proto.text
    next(b for b in app.button if b.label == "Cancel training").click().run()
    while job.state == RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job.state == CANCELLED and job.result is None
    app.run()
    assert "Training was cancelled; nothing was saved." in texts(app)


@pytest.fixture
def locked_app(tmp_path, monkeypatch, catbreed_home, cookie):
    monkeypatch.setenv("CATBREED_HOME", str(tmp_path))
    monkeypatch.setenv("CATBREED_PASSWORD", "purr purr")
    monkeypatch.setattr("pages.frame.shared.WRONG_PASSWORD_PAUSE", 0)
    monkeypatch.setattr("pages.frame.shared.THROTTLE", Throttle())
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


@pytest.mark.parametrize("page", ["pages/home.py", "pages/classify.py", "pages/train.py", "pages/models.py"])
def test_with_a_password_set_every_page_asks_for_it_first(locked_app, page):
    locked_app.switch_page(page).run()
    assert not locked_app.exception
    assert [t.label for t in locked_app.text_input] == ["Password"]
    assert [e.value for e in locked_app.title] == ["catbreed"] and not locked_app.header and not locked_app.metric


def test_the_password_opens_the_app_and_a_wrong_one_does_not(locked_app):
    locked_app.switch_page("pages/models.py").run()
    locked_app.text_input[0].set_value("meow")
    locked_app.button[0].click().run()
    assert "That is not the password" in locked_app.error[0].value
    assert [t.label for t in locked_app.text_input] == ["Password"]
    locked_app.text_input[0].set_value("purr purr")
    locked_app.button[0].click().run()
    locked_app.run()  # the page reloads with its new cookie
    assert not locked_app.exception and "Password" not in [t.label for t in locked_app.text_input]
    assert [e.value for e in locked_app.title] == ["Models"]  # the page that was asked for


def test_wrong_passwords_from_one_address_lock_it_out_across_sessions(locked_app, caplog):
    from catbreed.access import FREE_FAILURES

    def attempt(at, password: str) -> str:
        at.text_input[0].set_value(password)
        at.button[0].click().run()
        return at.error[0].value if at.error else ""

    locked_app.run()
    for _ in range(FREE_FAILURES + 1):
        assert "That is not the password" in attempt(locked_app, "meow")
    assert caplog.text.count("wrong password from") == FREE_FAILURES + 1  # a log line for each
    second = AppTest.from_file(str(APP), default_timeout=TIMEOUT)  # another session, the same address
    second.run()
    assert "Too many wrong passwords from your address" in attempt(second, "purr purr")
    assert [t.label for t in second.text_input] == ["Password"]


def test_the_lockout_doubles_with_each_failure_and_a_right_password_clears_it():
    from catbreed.access import FIRST_LOCKOUT_SECONDS, FREE_FAILURES, MAX_LOCKOUT_SECONDS

    throttle = Throttle()
    for _ in range(FREE_FAILURES):
        throttle.failed("10.0.0.7", now=0.0)
    assert throttle.wait_seconds("10.0.0.7", now=0.0) == 0  # a few typos cost nothing
    throttle.failed("10.0.0.7", now=0.0)
    assert throttle.wait_seconds("10.0.0.7", now=0.0) == FIRST_LOCKOUT_SECONDS
    throttle.failed("10.0.0.7", now=0.0)
    assert throttle.wait_seconds("10.0.0.7", now=0.0) == 2 * FIRST_LOCKOUT_SECONDS
    assert throttle.wait_seconds("10.0.0.8", now=0.0) == 0  # only that address waits
    for _ in range(30):
        throttle.failed("10.0.0.7", now=0.0)
    assert throttle.wait_seconds("10.0.0.7", now=0.0) == MAX_LOCKOUT_SECONDS
    throttle.succeeded("10.0.0.7")
    assert throttle.wait_seconds("10.0.0.7", now=0.0) == 0


def test_the_password_is_compared_in_constant_time_and_the_environment_wins(monkeypatch):
    from catbreed.access import configured_password, password_matches

    assert configured_password({}) is None and configured_password({"password": "from secrets"}) == "from secrets"
    monkeypatch.setenv("CATBREED_PASSWORD", "from env")
    assert configured_password({"password": "from secrets"}) == "from env"
    assert password_matches("purr", "purr") and not password_matches("pur", "purr")
    assert not password_matches("", "purr") and password_matches("chât", "chât")


def test_where_it_looked_uses_the_model_that_answered_even_if_its_name_is_saved_over(
    trained, tmp_path, monkeypatch, standin_settings
):
    """Someone saves another model under the same name between a person's answer and its Grad-CAM."""
    from conftest import make_dataset_folder

    from catbreed.data.dataset import check_folder
    from catbreed.learn.training import train
    from catbreed.models.predict import Predictor
    from pages.frame.shared import ModelInUse, extractor, where_it_looked

    monkeypatch.setenv("CATBREED_HOME", str(tmp_path))
    store = ModelStore()
    answered = ModelInUse(
        Predictor(trained.bundle, extractor(trained.bundle.backbone)), store.save(trained.bundle, "shared name"), None
    )
    two = check_folder(make_dataset_folder(tmp_path / "two", per_class=4, kinds=("blue_squares", "green_bars")))
    other = train(two, standin_settings, extractor=extractor(trained.bundle.backbone))
    store.save(other.bundle, "shared name", overwrite=True)  # another model, same name
    photo = jpeg_bytes(drawn_photo("red_circles", 3))
    # A breed only the answering model knows:
    heat = where_it_looked(answered.predictor.bundle, answered.version, photo, "red_circles", 320)
    assert heat.shape == (320, 320, 3)


def test_a_damaged_model_on_the_models_page_gets_a_message_not_a_traceback(app, trained, tmp_path):
    store = ModelStore()
    store.save(trained.bundle, "fine")
    store.save(trained.bundle, "damaged")
    head = store.path("damaged") / "head.npz"
    head.write_bytes(head.read_bytes()[:200])  # cut short, as a full disk leaves it
    app.switch_page("pages/models.py").run()
    assert not app.exception and sorted(app.dataframe[0].value["name"]) == ["damaged", "fine"]
    next(b for b in app.button if b.key == "export-damaged").click().run()
    assert not app.exception
    assert "The model in" in app.error[0].value and "could not be read" in app.error[0].value


def test_a_returning_user_opens_a_data_set_kept_on_the_server(app, tmp_path, shapes_folder):
    from catbreed.data.dataset import check_folder
    from catbreed.data.saved_datasets import DatasetStore

    kept = DatasetStore().from_dataset("kept cats", check_folder(shapes_folder))
    app.switch_page("pages/train.py").run()
    assert not app.exception  # the select box of kept data sets once raised "cannot pickle '_thread.lock'"
    picker = app.selectbox(key="pick-data-set")
    assert picker.value == kept.id and "kept cats: 3 breeds, 36 photos" in picker.format_func(picker.value)
    next(b for b in app.button if b.label == "Open it").click().run()
    assert not app.exception and app.query_params["data"] == kept.id
    assert {m.label: m.value for m in app.metric}["Photos"] == "36"


def new_browser(at, cookie: BrowserCookie) -> None:
    """The same server, someone else: a browser without the first one's cookie."""
    cookie.value = None
    at.run()  # given a pass of its own
    at.run()
    assert cookie.value is not None


def labels(at, kind: str = "button") -> list[str]:
    return [element.label for element in at.get(kind)] if kind != "button" else [b.label for b in at.button]


def test_a_second_person_cannot_open_change_or_delete_the_first_persons_things_by_link(app, cookie, trained, tmp_path):
    first = identity(cookie)
    saved = DatasetStore().create("first's cats", owner=first)
    saved.add_breed("Siamese")
    ModelStore().save(trained.bundle, "first's model", owner=first)
    new_browser(app, cookie)
    assert identity(cookie) != first

    app.query_params["data"] = saved.id
    app.switch_page("pages/train.py").run()
    assert not app.exception
    assert "That data set is not here (deleted, or not shared with you)" in app.warning[0].value
    assert "Download the data set (.zip)" not in labels(app, "download_button")
    assert "Add breed" not in labels(app) and "first's cats" not in texts(app)
    app.switch_page("pages/models.py").run()
    assert "first's model" not in [e.label for e in app.expander] + app.selectbox[0].options
    app.query_params["model"] = "first's model"
    app.switch_page("pages/classify.py").run()
    assert "is not here (deleted, or not shared with you)" in app.warning[0].value.replace("\\", "")

    saved.share(True)  # the first person shares the data set: the second may look and download, not change
    app.query_params["data"] = saved.id
    app.switch_page("pages/train.py").run()
    assert "Someone shared this data set with you" in texts(app)
    assert "Download the data set (.zip)" in labels(app, "download_button")
    assert "Add breed" not in labels(app) and not any(t.label.startswith("Share it") for t in app.toggle)


def test_the_owner_shares_a_model_and_only_the_operator_deletes_others(app, cookie, trained, tmp_path, monkeypatch):
    monkeypatch.setenv("CATBREED_ADMIN_PASSWORD", "boss cat")
    monkeypatch.setattr("pages.frame.shared.WRONG_PASSWORD_PAUSE", 0)
    ModelStore().save(trained.bundle, "mine", owner=identity(cookie))
    app.switch_page("pages/models.py").run()
    assert "Yours, not shared." in texts(app)
    next(t for t in app.toggle if t.label == "Shared with everyone").set_value(True).run()
    assert ModelStore().find("mine").ownership.shared
    assert "Make it the default for everyone" not in labels(app)  # an admin password is set: the operator's

    new_browser(app, cookie)
    app.switch_page("pages/models.py").run()
    assert "Shared with you by its owner." in texts(app)
    assert "Delete…" not in labels(app) and "Shared with everyone" not in [t.label for t in app.toggle]
    app.text_input[0].set_value("boss cat")  # the sidebar's operator form
    next(b for b in app.button if b.label == "Act as the operator").click().run()
    app.run()  # reloaded with the operator's pass
    app.selectbox[0].set_value("mine").run()
    assert "Delete…" in labels(app) and "Make it the default for everyone" in labels(app)
    next(b for b in app.button if b.label == "Delete…").click().run()
    next(b for b in app.button if b.label == "Delete").click().run()
    assert ModelStore().find("mine") is None


def test_a_copied_session_without_the_cookie_gets_the_sign_in_form(locked_app, cookie):
    locked_app.run()
    locked_app.text_input[0].set_value("purr purr")
    locked_app.button[0].click().run()
    locked_app.run()
    assert [e.value for e in locked_app.title] == ["catbreed"] and "Password" not in labels(locked_app, "text_input")
    signed_in = cookie.value
    cookie.value = None  # the same Streamlit session, reached by someone who has its id but not the cookie
    locked_app.run()
    assert labels(locked_app, "text_input") == ["Password"] and not locked_app.metric

    cookie.value = signed_in
    locked_app.run()
    next(b for b in locked_app.button if b.label == "Sign out").click().run()
    locked_app.run()
    assert labels(locked_app, "text_input") == ["Password"]
    cookie.value = signed_in  # a copy of the cookie taken before signing out opens nothing either
    locked_app.run()
    assert labels(locked_app, "text_input") == ["Password"]


def test_a_training_worker_that_imports_the_app_again_neither_draws_it_nor_imports_the_pages():
    """multiprocessing's "spawn" imports the main script of the process that starts a worker again, as
    "__mp_main__"; under Streamlit that is app.py. It once drew the app there, TensorFlow and all."""
    import subprocess
    import sys

    check = (
        "import runpy, sys; runpy.run_path('app.py', run_name='__mp_main__'); "
        "print(sorted(m for m in ('pages.frame.shared', 'tensorflow', 'keras') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=APP.parent, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


PAGES_WITHOUT_KERAS = """
import sys
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
import pages.frame.shared
from test_app import BrowserCookie, navigated

# As in this file's AppTests: a running server's pages, a browser with a cookie jar.
PagesManager.__init__ = navigated(PagesManager.__init__)
pages.frame.shared.COOKIE = BrowserCookie()
at = AppTest.from_file("app.py", default_timeout=120)
at.run()
at.run()
for page in ("pages/home.py", "pages/train.py", "pages/models.py", "pages/classify.py"):
    at.switch_page(page).run()
    assert not at.exception, (page, at.exception)
at.file_uploader(key="photos").set_value([("cat.jpg", open(sys.argv[1], "rb").read(), "image/jpeg")])
at.run()
assert at.subheader[0].value == "Siamese cat", [s.value for s in at.subheader]
print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""


def test_pages_that_only_classify_never_import_tensorflow(lite0_extractor, catbreed_home, cat_photo):
    """Keras and TensorFlow take seconds and hundreds of MB to import: a server whose visitors only
    look at Home, Train, Models and classify photos never pays for them (Grad-CAM, Learn and export do)."""
    import os
    import subprocess
    import sys

    path = os.pathsep.join([str(APP.parent), str(APP.parent / "tests")])
    env = {**os.environ, "CATBREED_HOME": str(catbreed_home), "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, "-c", PAGES_WITHOUT_KERAS, str(cat_photo)],
        cwd=APP.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("pages/home.py", "catbreed"),
        ("pages/classify.py", "Classificar"),
        ("pages/train.py", "Treinar"),
        ("pages/models.py", "Modelos"),
    ],
)
def test_a_page_asked_in_portuguese_speaks_portuguese(app, page, title):
    app.query_params["lang"] = "pt-BR"
    app.switch_page(page).run()
    assert not app.exception and app.title[0].value == title
    assert app.sidebar.selectbox[0].value == "pt_BR" and app.sidebar.selectbox[0].label == "Idioma"

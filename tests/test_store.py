import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from catbreed.errors import CatbreedError
from catbreed.models.store import BUILTIN, Choice, ModelStore, check_name, suggest_name

ROOT = Path(__file__).resolve().parents[1]


def test_save_list_set_the_default_and_delete(trained, tmp_path):
    store = ModelStore(tmp_path)
    assert store.list() == [] and store.default() is None
    saved = store.save(trained.bundle, "  my shapes ")
    assert saved.name == "my shapes" and saved.expected_accuracy == trained.estimate
    assert [m.name for m in store.list()] == ["my shapes"]
    assert store.default() is None  # saving alone changes nobody's model
    store.set_default("my shapes")
    assert store.default_name() == "my shapes" and store.default() == saved
    assert store.load("my shapes").classes == trained.bundle.classes
    with pytest.raises(CatbreedError, match="exists already"):
        store.save(trained.bundle, "my shapes")
    store.delete("my shapes")
    assert store.list() == [] and store.default() is None


def test_a_person_keeps_their_choice_and_learns_when_it_is_gone(trained, tmp_path):
    store = ModelStore(tmp_path)
    store.save(trained.bundle, "mine")
    store.save(trained.bundle, "everyone's")
    store.set_default("everyone's")
    assert store.choose(None) == Choice(store.find("everyone's"))  # no choice yet: the default
    assert store.choose("mine") == Choice(store.find("mine"))
    assert store.choose(BUILTIN) == Choice(None)  # the built-in model, chosen on purpose
    store.delete("mine")
    gone = store.choose("mine")
    assert gone.model == store.find("everyone's")
    assert (
        str(gone.notice)
        == "The model 'mine' is not here (deleted, or not shared with you); you now use the default, 'everyone's'."
    )
    assert store.choose("../../etc").model == store.find("everyone's")  # a crafted link finds nothing else


def test_each_persons_own_choice_is_kept_for_their_next_visit_and_bounded(tmp_path, monkeypatch):
    from catbreed.models import store as store_module

    store = ModelStore(tmp_path)
    assert store.kept_choice("ann") is None  # nobody chose yet
    store.keep_choice("ann", "mine")
    store.keep_choice("bob", BUILTIN)
    assert ModelStore(tmp_path).kept_choice("ann") == "mine" and store.kept_choice("bob") == BUILTIN
    store.keep_choice("ann", None)  # forgotten: back to the server's default
    assert store.kept_choice("ann") is None and store.kept_choice("bob") == BUILTIN
    monkeypatch.setattr(store_module, "KEPT_CHOICES", 2)
    for person in ("cid", "dan", "bob"):  # bob chose again: now the newest
        store.keep_choice(person, "mine")
    assert [store.kept_choice(p) for p in ("cid", "dan", "bob")] == [None, "mine", "mine"]
    assert store.list() == []  # the file of choices is no model
    (tmp_path / store_module.CHOICES_FILE).write_text("[not, json")
    assert store.kept_choice("dan") is None  # a damaged file is no choice, never an error
    store.keep_choice("eve", "mine")
    assert store.kept_choice("eve") == "mine"


def test_zip_download_holds_the_whole_bundle(trained, tmp_path):
    store = ModelStore(tmp_path)
    store.save(trained.bundle, "z")
    names = zipfile.ZipFile(store.zip_file("z")).namelist()
    assert {"z/MODEL_CARD.md", "z/head.npz", "z/labels.txt", "z/metadata.json", "z/samples/00.jpg"} <= set(names)
    assert len([n for n in names if n.startswith("z/samples/")]) == len(trained.bundle.samples) == 16


@pytest.mark.parametrize("name", ["", "   ", "../up", "a/b", ".hidden", "x" * 65, "tab\there"])
def test_unsafe_or_empty_names_are_refused(name):
    with pytest.raises(CatbreedError):
        check_name(name)


def test_a_name_from_a_url_never_reaches_outside_the_models_folder(tmp_path, trained):
    outside = tmp_path / "elsewhere"
    trained.bundle.save(outside / "secret")  # a real model, but not in the models folder
    store = ModelStore(tmp_path / "models")
    for wanted in (str(outside / "secret"), "../elsewhere/secret", "a/../../elsewhere/secret", "x" * 300, "\x00"):
        assert store.find(wanted) is None
        choice = store.choose(wanted)
        assert choice.model is None and "is not here" in str(choice.notice)


def test_unicode_names_are_fine():
    assert check_name("Chats de Mémé 🐈") == "Chats de Mémé 🐈"


def test_folders_that_are_not_models_are_passed_over(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metadata.json").write_text("{not json")
    assert ModelStore(tmp_path).list() == []
    with pytest.raises(CatbreedError, match="No saved model named 'junk'"):
        ModelStore(tmp_path).set_default("junk")


def test_suggested_names_keep_whole_breed_names():
    assert suggest_name("quick", ["Bengal", "Birman"]) == "quick Bengal-Birman"
    many = ["Abyssinian", "Bengal", "Birman", "Bombay", "British_Shorthair", "Egyptian_Mau"]
    assert suggest_name("accurate", many) == "accurate 6 breeds"
    assert check_name(suggest_name("quick", many)) == "quick 6 breeds"


def test_two_saves_under_one_name_at_once_cannot_both_succeed(trained, tmp_path, monkeypatch):
    from catbreed.models.bundle import ModelBundle

    store = ModelStore(tmp_path)
    real_save = ModelBundle.save

    def slow_save(self, path, **options):  # wide open window between the name check and the rename
        time.sleep(0.3)
        return real_save(self, path, **options)

    monkeypatch.setattr(ModelBundle, "save", slow_save)
    outcomes = []

    def save():
        try:
            store.save(trained.bundle, "ours")
            outcomes.append("saved")
        except CatbreedError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=save) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(outcomes) == ["A model named 'ours' exists already; choose another name or delete it first.", "saved"]


KILL_DURING_SAVE = """
import os, sys
from catbreed import paths
from catbreed.models.bundle import ModelBundle
from catbreed.models.store import ModelStore

renames, kill_after = [], int(sys.argv[2])
real_replace = os.replace

def replace_then_die(src, dst):
    real_replace(src, dst)
    renames.append(dst)
    if len(renames) == kill_after:
        os._exit(9)  # no finally, no cleanup: as a power cut or an out-of-memory kill

paths.os.replace = replace_then_die
store = ModelStore(sys.argv[1])
bundle = store.load("cats")
bundle.metadata = type(bundle.metadata)(**{**bundle.metadata.__dict__, "created": "2030-01-01T00:00:00+00:00"})
store.save(bundle, "cats", overwrite=True)
"""


@pytest.mark.slow  # a new process, killed: importing the library costs it seconds
@pytest.mark.parametrize("kill_after", [1, 2], ids=["between-the-renames", "before-the-old-copy-is-removed"])
def test_a_save_killed_at_any_step_leaves_the_old_model_or_the_new_one(trained, tmp_path, kill_after):
    store = ModelStore(tmp_path)
    before = store.save(trained.bundle, "cats").created
    run = subprocess.run([sys.executable, "-c", KILL_DURING_SAVE, str(tmp_path), str(kill_after)], cwd=ROOT)
    assert run.returncode == 9
    assert (store.find("cats") is None) == (kill_after == 1)  # hidden until recovered
    ModelStore(tmp_path).recover()  # at start-up
    found = store.find("cats")
    assert found is not None and store.load("cats").classes == trained.bundle.classes
    assert found.created == (before if kill_after == 1 else "2030-01-01T00:00:00+00:00")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".lock")) == ["cats"]

import io
import zipfile

import pytest

from catbreed.errors import CatbreedError
from catbreed.models.store import ModelStore, check_name, suggest_name


def test_save_list_activate_and_delete(trained, tmp_path):
    store = ModelStore(tmp_path)
    assert store.list() == [] and store.active() is None
    saved = store.save(trained.bundle, "  my shapes ")
    assert saved.name == "my shapes" and saved.expected_accuracy == trained.estimate
    assert [m.name for m in store.list()] == ["my shapes"]
    assert store.in_use() is None  # saving alone does not change the model in use
    store.set_active("my shapes")
    assert store.active() == "my shapes" and store.in_use() == saved
    assert store.load("my shapes").classes == trained.bundle.classes
    with pytest.raises(CatbreedError, match="exists already"):
        store.save(trained.bundle, "my shapes")
    store.delete("my shapes")
    assert store.list() == [] and store.active() is None


def test_zip_download_holds_the_whole_bundle(trained, tmp_path):
    store = ModelStore(tmp_path)
    store.save(trained.bundle, "z")
    names = zipfile.ZipFile(io.BytesIO(store.zip_bytes("z"))).namelist()
    assert {"z/MODEL_CARD.md", "z/head.npz", "z/labels.txt", "z/metadata.json", "z/samples/00.jpg"} <= set(names)
    assert len([n for n in names if n.startswith("z/samples/")]) == len(trained.bundle.samples) == 16


@pytest.mark.parametrize("name", ["", "   ", "../up", "a/b", ".hidden", "x" * 65, "tab\there"])
def test_unsafe_or_empty_names_are_refused(name):
    with pytest.raises(CatbreedError):
        check_name(name)


def test_unicode_names_are_fine():
    assert check_name("Chats de Mémé 🐈") == "Chats de Mémé 🐈"


def test_folders_that_are_not_models_are_passed_over(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metadata.json").write_text("{not json")
    assert ModelStore(tmp_path).list() == []
    with pytest.raises(CatbreedError, match="No saved model named 'junk'"):
        ModelStore(tmp_path).set_active("junk")


def test_suggested_names_keep_whole_breed_names():
    assert suggest_name("quick", ["Bengal", "Birman"]) == "quick Bengal-Birman"
    many = ["Abyssinian", "Bengal", "Birman", "Bombay", "British_Shorthair", "Egyptian_Mau"]
    assert suggest_name("accurate", many) == "accurate 6 breeds"
    assert check_name(suggest_name("quick", many)) == "quick 6 breeds"

"""Data sets kept in the app: built photo by photo, fixed in place, downloaded as a zip."""

import io
import zipfile
from pathlib import Path

import pytest
from conftest import drawn_photo, jpeg_bytes

from catbreed.data.dataset import check_folder, open_dataset
from catbreed.data.saved_datasets import DatasetStore, check_breed_name
from catbreed.errors import CatbreedError


@pytest.fixture
def store(tmp_path):
    return DatasetStore(tmp_path / "datasets")


def snapshot(kind: str, seed: int) -> bytes:
    return jpeg_bytes(drawn_photo(kind, seed))


def test_a_data_set_built_from_nothing_trains_like_a_zip(store):
    saved = store.create("my cats")
    assert saved.version == 0 and saved.breeds() == []
    for breed, kind in (("Red", "red_circles"), ("Blue", "blue_squares")):
        saved.add_breed(breed)
        for i in range(3):
            saved.add_photo(breed, snapshot(kind, i), f"webcam {i}.jpg")
    assert saved.counts() == {"Blue": 3, "Red": 3} and saved.version == 2 + 6
    dataset = saved.check()
    assert dataset.classes == ["Blue", "Red"] and len(dataset.photos) == 6
    assert sorted(p.name for p in dataset.photos)[0] == "Blue/webcam 0.jpg"  # the person's own names
    assert store.get(saved.id).name == "my cats" and [d.id for d in store.list()] == [saved.id]


def test_relabel_and_remove_raise_the_version_and_change_what_trains(store):
    saved = store.create("fix me")
    saved.add_breed("Red")
    saved.add_breed("Blue")
    wrong = saved.add_photo("Red", snapshot("blue_squares", 1), "oops.jpg")
    extra = saved.add_photo("Red", snapshot("red_circles", 2), "blurry.jpg")
    before = saved.version
    moved = saved.move_photo(wrong.name, "Blue")
    saved.remove_photo(extra.name)
    assert moved.name == "Blue/oops.jpg" and saved.counts() == {"Blue": 1, "Red": 0}
    assert saved.version == before + 2
    with pytest.raises(CatbreedError, match="There is no photo 'Red/blurry.jpg'"):
        saved.remove_photo(extra.name)


def test_the_same_file_name_twice_keeps_both_photos(store):
    saved = store.create("twins")
    saved.add_breed("Red")
    first = saved.add_photo("Red", snapshot("red_circles", 1), "snapshot.jpg")
    second = saved.add_photo("Red", snapshot("red_circles", 2), "snapshot.jpg")
    assert first.name == "Red/snapshot.jpg" and second.name.startswith("Red/snapshot-") and len(saved.photos()) == 2


def test_the_same_photo_twice_is_refused_when_taken_not_later_in_the_report(store):
    saved = store.create("twins")
    saved.add_breed("Red")
    saved.add_breed("Blue")
    saved.add_photo("Red", snapshot("red_circles", 1), "snapshot 1.jpg")
    before = saved.version
    with pytest.raises(CatbreedError, match="'snapshot 2.jpg' is the same photo as 'Red/snapshot 1.jpg'"):
        saved.add_photo("Blue", snapshot("red_circles", 1), "snapshot 2.jpg")
    assert saved.version == before and len(saved.photos()) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a photo", "'x.jpg' cannot be used as a photo: not an image"),
        (b"", "'x.jpg' cannot be used as a photo: empty file"),
    ],
)
def test_bad_photos_are_refused_with_the_files_name(store, data, message):
    saved = store.create("strict")
    saved.add_breed("Red")
    with pytest.raises(CatbreedError, match=message):
        saved.add_photo("Red", data, "x.jpg")
    assert saved.photos() == []


def test_a_data_set_holds_no_more_photos_than_a_zip_may(store, monkeypatch):
    monkeypatch.setenv("CATBREED_ARCHIVE_ENTRIES", "2")
    saved = store.create("small")
    saved.add_breed("Red")
    for i in range(2):
        saved.add_photo("Red", snapshot("red_circles", i), f"{i}.jpg")
    with pytest.raises(CatbreedError, match="holds 2 photos, the most kept; remove some first"):
        saved.add_photo("Red", snapshot("red_circles", 9), "9.jpg")


def test_photos_go_only_into_breeds_that_exist(store):
    saved = store.create("strict")
    with pytest.raises(CatbreedError, match="no breed 'Red' in this data set; add it first"):
        saved.add_photo("Red", snapshot("red_circles", 1))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the breed a name"),
        ("Sia\nmese", r"cannot contain '\\n'"),
        ("../up", "cannot contain '/'"),
        (".hidden", "a leading '.'"),
        ("x" * 65, "at most 64"),
    ],
)
def test_breed_names_that_cannot_be_folders_are_refused_with_what_to_change(name, message):
    with pytest.raises(CatbreedError, match=message):
        check_breed_name(name)


def test_a_breed_is_added_once_whatever_its_case(store):
    saved = store.create("case")
    saved.add_breed("Siamese")
    with pytest.raises(CatbreedError, match="has a breed 'siamese' already"):
        saved.add_breed("siamese")


def test_a_zip_becomes_a_saved_data_set_and_the_download_trains_the_same_classes(store, shapes_zip, tmp_path):
    unpacked = open_dataset(shapes_zip, tmp_path / "unpacked")
    saved = store.from_dataset("shapes", unpacked)
    assert saved.counts() == unpacked.counts and saved.version == 1
    archive = tmp_path / "download.zip"
    archive.write_bytes(saved.zip_file().read())
    assert zipfile.ZipFile(io.BytesIO(archive.read_bytes())).namelist()[0].startswith("blue_squares/")
    again = open_dataset(archive, tmp_path / "again")
    assert again.classes == unpacked.classes and again.counts == unpacked.counts
    assert again.fingerprint == check_folder(saved.photos_folder).fingerprint == unpacked.fingerprint


def test_stale_or_foreign_ids_find_nothing(store):
    assert store.get("nope") is None and store.get("../etc") is None and store.get(None) is None


def test_an_uploaded_zip_keeps_its_report_and_leaves_no_unpacked_copy(store, tmp_path):
    from conftest import make_dataset_folder, zip_folder

    from catbreed.paths import temp_root

    root = make_dataset_folder(tmp_path / "d", per_class=3, kinds=("red_circles", "blue_squares"))
    (root / "red_circles" / "notes.txt").write_text("not a photo")
    archive = zip_folder(root, tmp_path / "my cats.zip")
    before = set(temp_root().iterdir())
    with open(archive, "rb") as stream:
        saved = store.from_upload(stream)
    assert saved.name == "my cats" and saved.counts() == {"blue_squares": 3, "red_circles": 3}
    assert [(s.name, str(s.reason)) for s in saved.check().skipped] == [("red_circles/notes.txt", "not an image")]
    assert set(temp_root().iterdir()) == before


def test_data_sets_nobody_opened_for_the_time_kept_are_deleted(store, monkeypatch):
    import os
    import time

    old, recent = store.create("old"), store.create("recent")
    month_ago = time.time() - 31 * 86400
    os.utime(old.folder / "dataset.json", (month_ago, month_ago))
    os.utime(recent.folder / "dataset.json", (month_ago, month_ago))
    assert store.get(recent.id) is not None  # opening it counts as using it
    monkeypatch.setenv("CATBREED_KEEP_DATASETS_DAYS", "30")
    assert store.expire() == [old.id]
    assert [d.id for d in store.list()] == [recent.id]


def test_a_version_is_checked_once_and_a_change_is_seen_at_once(store, monkeypatch):
    from catbreed.data import saved_datasets

    saved = store.create("checked once")
    for breed, kind in (("Red", "red_circles"), ("Blue", "blue_squares")):
        saved.add_breed(breed)
        for i in range(2):
            saved.add_photo(breed, snapshot(kind, i), f"{i}.jpg")
    checks = []
    real_check_folder = saved_datasets.check_folder
    monkeypatch.setattr(saved_datasets, "check_folder", lambda *a, **k: checks.append(1) or real_check_folder(*a, **k))
    first = saved.check()
    assert saved.check() is first and store.get(saved.id).check() is first and len(checks) == 1
    saved.add_photo("Red", snapshot("red_circles", 5), "5.jpg")
    assert saved.check().counts == {"Blue": 2, "Red": 3} and len(checks) == 2


@pytest.mark.parametrize("wanted", ["a" * 300, "../datasets", "ABCDEF012345", "", None])
def test_only_our_own_ids_open_a_data_set(store, wanted):
    store.create("real")
    assert store.get(wanted) is None  # a 300-character id once raised "File name too long"


def test_breeds_a_zip_named_against_the_rules_for_new_names_stay_editable(store, tmp_path):
    """A zip may bring 'Persian: long hair' or 'A → B'; the editor refuses such names only for new breeds."""
    from conftest import zip_folder

    root = tmp_path / "odd"
    for breed, kind in (
        ("Persian: long hair", "red_circles"),
        ('Maine "Coon"?', "blue_squares"),
        ("A → B", "green_bars"),
    ):
        (root / breed).mkdir(parents=True)
        for seed in range(2):
            (root / breed / f"{seed}.jpg").write_bytes(snapshot(kind, seed))
    with open(zip_folder(root, tmp_path / "odd.zip"), "rb") as stream:
        saved = store.from_upload(stream)
    assert saved.breeds() == sorted(["Persian: long hair", 'Maine "Coon"?', "A → B"])
    moved = saved.move_photo("Persian: long hair/0.jpg", 'Maine "Coon"?')
    saved.add_photo("Persian: long hair", snapshot("red_circles", 9), "new.jpg")
    saved.remove_photo(moved.name)
    assert saved.counts() == {"A → B": 2, 'Maine "Coon"?': 2, "Persian: long hair": 2}
    for sneaky in ("../odd", "Persian: long hair/../../x", "nope"):
        with pytest.raises(CatbreedError, match="There is no"):
            saved.add_photo(sneaky, snapshot("red_circles", 10), "x.jpg")


def test_a_zips_readme_stays_with_the_data_set_and_goes_out_with_its_download(store, tmp_path):
    from conftest import make_dataset_folder, zip_folder

    root = make_dataset_folder(tmp_path / "d", per_class=2, kinds=("red_circles", "blue_squares"))
    (root / "README.md").write_text("Photos by Ana, CC BY 4.0.")
    with open(zip_folder(root, tmp_path / "ana.zip"), "rb") as stream:
        saved = store.from_upload(stream)
    assert saved.check().notes == "Photos by Ana, CC BY 4.0."
    with zipfile.ZipFile(saved.zip_file()) as zf:
        assert zf.read("README.txt").decode() == "Photos by Ana, CC BY 4.0."


def test_a_full_disk_during_an_import_or_an_add_keeps_nothing_partial_and_says_so(store, tmp_path, monkeypatch):
    import errno
    import shutil

    from conftest import make_dataset_folder

    from catbreed.data import saved_datasets
    from catbreed.paths import atomic_write_bytes as real_write

    dataset = check_folder(make_dataset_folder(tmp_path / "d", per_class=4, kinds=("red_circles", "blue_squares")))
    copied, copy = [], shutil.copyfile

    def copy_until_full(source, target):
        if len(copied) == 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        copied.append(target)
        return copy(source, target)

    monkeypatch.setattr(shutil, "copyfile", copy_until_full)
    with pytest.raises(CatbreedError, match=r"could not be kept on the server \(No space left on device\); nothing"):
        store.from_dataset("half", dataset)
    assert store.list() == [] and list(store.root.iterdir()) == []  # not a photo left behind
    monkeypatch.setattr(shutil, "copyfile", copy)

    saved = store.from_dataset("whole", dataset)
    before = (saved.version, saved.counts())

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(saved_datasets, "atomic_write_bytes", full)
    with pytest.raises(CatbreedError, match="'new.jpg' could not be kept on the server"):
        saved.add_photo("red_circles", snapshot("red_circles", 99), "new.jpg")
    monkeypatch.setattr(saved_datasets, "atomic_write_bytes", real_write)
    assert (saved.version, saved.counts()) == before


IMPORT_IN_A_PROCESS = """
import sys
from pathlib import Path
from catbreed.data.dataset import check_folder
from catbreed.data.saved_datasets import DatasetStore

dataset = check_folder(Path(sys.argv[1]))
print("checked", flush=True)
DatasetStore(Path(sys.argv[2])).from_dataset("killed", dataset)
print("made", flush=True)
"""


@pytest.mark.slow  # processes of their own, killed
def test_an_import_killed_at_any_moment_leaves_the_whole_data_set_or_none(tmp_path):
    import os
    import random
    import subprocess
    import sys
    import time

    from conftest import make_dataset_folder

    root = make_dataset_folder(tmp_path / "d", per_class=60)
    expected = check_folder(root).counts
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for attempt in range(6):
        datasets = tmp_path / f"datasets-{attempt}"
        child = subprocess.Popen(
            [sys.executable, "-c", IMPORT_IN_A_PROCESS, str(root), str(datasets)], stdout=subprocess.PIPE, env=env
        )
        assert child.stdout.readline().strip() == b"checked"
        time.sleep(random.Random(attempt).uniform(0, 0.3))  # somewhere in the copying, or after it
        child.kill()
        child.wait()
        store = DatasetStore(datasets)
        store.recover(now=time.time() + 2 * 3600)  # the next start, once the staging folder is old
        kept = store.list()
        assert kept == [] or (len(kept) == 1 and kept[0].counts() == expected)
        assert [p.name for p in datasets.iterdir()] == [k.id for k in kept]  # nothing half-made left


EDITS_IN_A_PROCESS = """
import random, sys
from pathlib import Path
from conftest import drawn_photo, jpeg_bytes
from catbreed.data.saved_datasets import DatasetStore

saved = DatasetStore(Path(sys.argv[1])).get(sys.argv[2])
rng = random.Random(int(sys.argv[3]))
for step in range(10_000):
    photos, action = saved.photos(), rng.choice(("add", "add", "move", "remove"))
    change = {"add": 1, "remove": -1}.get(action, 0) if photos or action == "add" else 0
    print("begin", len(photos), len(photos) + change, flush=True)
    if action == "add":  # large enough that the write takes a moment to be caught in
        image = drawn_photo("green_bars", 100_000 * int(sys.argv[3]) + step, size=(1600, 1200))
        saved.add_photo(rng.choice(("Red", "Blue")), jpeg_bytes(image, quality=95), "same name.jpg")
    elif photos and action == "remove":
        saved.remove_photo(rng.choice(photos).name)
    elif photos:
        photo = rng.choice(photos)
        saved.move_photo(photo.name, "Blue" if photo.breed == "Red" else "Red")
"""


@pytest.mark.slow  # processes of their own, killed
def test_edits_killed_at_any_moment_leave_each_change_whole_or_not_made(tmp_path):
    import os
    import random
    import subprocess
    import sys
    import time

    tests = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": f"{tests.parent}{os.pathsep}{tests}"}
    store = DatasetStore(tmp_path / "datasets")
    saved = store.create("edited")
    for breed in ("Red", "Blue"):
        saved.add_breed(breed)
    for attempt in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", EDITS_IN_A_PROCESS, str(store.root), saved.id, str(attempt)],
            stdout=subprocess.PIPE,
            env=env,
        )
        first = child.stdout.readline()
        assert first.startswith(b"begin")
        time.sleep(random.Random(attempt).uniform(0.2, 1.5))
        child.kill()
        child.wait()
        *_, last = (first + child.stdout.read()).decode().splitlines()
        _, before, after = last.split()
        store.recover(now=time.time() + 2 * 3600)  # the next start
        checked = saved.check()
        assert len(saved.photos()) in (int(before), int(after))  # the edit under way: made whole, or not at all
        assert not checked.skipped and len(checked.photos) + len(checked.duplicates) == len(saved.photos())
        assert not [f for f in saved.folder.rglob(".*")]  # nothing half-written left behind


def test_eight_people_editing_one_data_set_at_once_see_messages_never_tracebacks(store):
    """Adds, moves, removals and checks from 8 threads at once; once, a check's stat() of a photo
    just removed raised FileNotFoundError on the page."""
    import random
    import threading

    saved = store.create("busy")
    for breed in ("Red", "Blue"):
        saved.add_breed(breed)
    for seed in range(12):
        saved.add_photo("Red" if seed % 2 else "Blue", snapshot("red_circles" if seed % 2 else "blue_squares", seed))
    failures: list[BaseException] = []

    def edit(worker: int) -> None:
        rng = random.Random(worker)
        for step in range(25):
            try:
                action = rng.choice(("add", "remove", "move", "check"))
                photos = saved.photos()
                if action == "add":
                    saved.add_photo(rng.choice(("Red", "Blue")), snapshot("green_bars", 1000 * worker + step))
                elif action == "check":
                    saved.check()
                elif photos:
                    photo = rng.choice(photos)
                    if action == "remove":
                        saved.remove_photo(photo.name)
                    else:
                        saved.move_photo(photo.name, "Blue" if photo.breed == "Red" else "Red")
            except CatbreedError:
                pass  # a one-line message for the person, e.g. "There is no photo ... in this data set."
            except BaseException as error:  # a traceback on the page
                failures.append(error)

    threads = [threading.Thread(target=edit, args=(worker,)) for worker in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert failures == []
    assert sum(saved.counts().values()) == len(saved.photos())


def test_a_data_sets_bytes_and_a_persons_data_sets_are_bounded_by_settings(store, monkeypatch, tmp_path):
    from conftest import make_dataset_folder

    monkeypatch.setenv("CATBREED_DATASETS_PER_PERSON", "2")
    mine = [store.create(f"mine {i}", owner="ana") for i in range(2)]
    with pytest.raises(CatbreedError, match="^You keep 2 data sets on this server, the most one person may; delete"):
        store.create("one too many", owner="ana")
    store.create("bea's", owner="bea")  # someone else's count is their own
    store.create("the house's")  # the command line's, unbounded
    mine[0].delete()
    assert store.get(mine[0].id) is None and not list(store.root.glob(".*"))
    store.create("room again", owner="ana")

    saved = mine[1]
    saved.add_breed("Red")
    photo = snapshot("red_circles", 1)
    saved.add_photo("Red", photo, "first.jpg")
    monkeypatch.setenv("CATBREED_DATASET_MB", str(1.5 * len(photo) / 1024**2))
    before = saved.version
    with pytest.raises(
        CatbreedError,
        match=r"^This data set would hold 0 MB of photos, more than the .*'second.jpg' was not added; make",
    ):
        saved.add_photo("Red", snapshot("red_circles", 2), "second.jpg")
    assert saved.version == before and len(saved.photos()) == 1
    big = check_folder(make_dataset_folder(tmp_path / "big", per_class=3, kinds=("red_circles", "blue_squares")))
    with pytest.raises(CatbreedError, match="^'imported' would hold"):
        store.from_dataset("imported", big, owner="bea")

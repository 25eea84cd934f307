import os
import subprocess
import sys

from catbreed.paths import clear_stale_temp, new_temp_folder, recover_folders, replace_folder, temp_folder, temp_root


def folder_with(path, text):
    path.mkdir()
    (path / "file.txt").write_text(text)
    return path


def test_replace_folder_swaps_contents(tmp_path):
    target = folder_with(tmp_path / "model", "old")
    replace_folder(folder_with(tmp_path / "staging", "new"), target)
    assert (target / "file.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_recovery_puts_back_an_old_copy_whose_folder_is_missing_and_drops_leftovers(tmp_path):
    folder_with(tmp_path / ".lost.old", "previous")  # a crash between the two renames
    folder_with(tmp_path / "kept", "new")
    folder_with(tmp_path / ".kept.old", "previous")  # a crash after both renames
    folder_with(tmp_path / ".half.x1y2.tmp", "half")  # a crash while writing
    (tmp_path / ".default.a1.tmp").write_text("half")
    assert recover_folders(tmp_path) == ["lost"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "lost"]
    assert (tmp_path / "lost" / "file.txt").read_text() == "previous"
    assert (tmp_path / "kept" / "file.txt").read_text() == "new"


def test_temp_folders_are_removed_however_the_block_ends(tmp_path):
    try:
        with temp_folder("data", tmp_path) as folder:
            (folder / "x").write_text("x")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert not folder.exists() and list(temp_root(tmp_path).iterdir()) == []


def test_only_the_temp_folders_of_ended_processes_are_stale(tmp_path):
    mine = new_temp_folder("upload", tmp_path)
    code = f"from pathlib import Path; from catbreed.paths import new_temp_folder; new_temp_folder('upload', Path({str(tmp_path)!r}))"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    (temp_root(tmp_path) / "not-ours").mkdir()
    stale = clear_stale_temp(tmp_path)
    assert len(stale) == 2 and "not-ours" in stale  # the ended process's folder and one of no process
    assert [p for p in temp_root(tmp_path).iterdir()] == [mine]


def test_a_download_is_zipped_into_a_nameless_file_on_disk_that_a_download_button_reads(tmp_path, own_home):
    import io
    import zipfile

    from streamlit.elements.widgets.button import convert_data_to_bytes_and_infer_mime

    from catbreed.paths import zip_folder

    folder = tmp_path / "model"
    (folder / "samples").mkdir(parents=True)
    (folder / "head.npz").write_bytes(b"weights")
    (folder / "owner.json").write_text("{}")
    (folder / "samples" / "0.jpg").write_bytes(b"jpeg")
    file = zip_folder(folder, leave_out={"owner.json"})
    assert os.fstat(file.fileno()).st_dev == os.stat(temp_root()).st_dev  # on the disk, not in memory
    assert list(temp_root().iterdir()) == []  # nameless: nothing to clean up after a crash
    data, _ = convert_data_to_bytes_and_infer_mime(file, unsupported_error=TypeError("refused"))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["model/head.npz", "model/samples/0.jpg"]

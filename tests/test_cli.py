"""The command line as users and scripts meet it: exit codes, one-line errors, stdout JSON; `main(argv)`
in this process, and once as a new process."""

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import drawn_photo, jpeg_bytes

from catbreed.cli import main
from catbreed.models.bundle import ModelBundle
from catbreed.models.verdict import VERDICTS
from catbreed.nets.backbones import STANDIN_BACKBONE

ROOT = Path(__file__).resolve().parents[1]


def catbreed(*args, home: Path, **env) -> subprocess.CompletedProcess:
    """The command as a user runs it: a new process (`env`: more environment variables)."""
    env = {**os.environ, "CATBREED_HOME": str(home), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "catbreed", *map(str, args)], capture_output=True, text=True, env=env, timeout=600
    )


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys):
    """The command in this process: `main(argv)` with its exit status and printed output."""

    def run(*args) -> Run:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit:  # argparse's own usage errors
            code = exit.code
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def last_json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def cli_model(shapes_zip, tmp_path, cli):
    out = tmp_path / "shapes-model"
    result = cli("train", shapes_zip, "--out", out, "--test-percent", 25, "--backbone", STANDIN_BACKBONE, "--json")
    return out, last_json(result), result


def test_train_writes_a_model_and_reports_json(cli_model):
    out, report, result = cli_model
    assert report["model"] == str(out) and (out / "head.npz").is_file()
    assert report["classes"] == ["blue_squares", "green_bars", "red_circles"]
    assert report["counts"] == {"blue_squares": 12, "green_bars": 12, "red_circles": 12}
    assert sum(report["split"].values()) == 36
    assert report["skipped"] == [] and report["duplicates"] == []
    assert report["metrics"]["test_accuracy"] == 1.0 and report["seconds"] > 0
    expected = report["metrics"]["expected_accuracy"]
    assert set(expected) == {"value", "low", "high", "method"}
    assert 0 <= expected["low"] <= expected["value"] <= expected["high"] <= 1
    assert "estimating accuracy" in result.stderr  # progress goes to stderr, not into the JSON
    curve = report["metrics"]["learning_curve"]  # how many photos it needs: smallest first, then its own estimate
    assert [p["photos_per_breed"] for p in curve] == sorted(p["photos_per_breed"] for p in curve) and curve
    assert {"photos_per_breed", "value", "low", "high"} <= set(curve[0])
    assert [curve[-1][k] for k in ("value", "low", "high")] == [expected[k] for k in ("value", "low", "high")]


def test_evaluate_reports_per_class_scores(cli_model, shapes_folder, cli):
    out, _, _ = cli_model
    report = last_json(cli("evaluate", shapes_folder, "--model", out, "--json"))
    assert report["n"] == 36 and report["accuracy"] > 0.95
    assert set(report["per_class"]) == {"blue_squares", "green_bars", "red_circles"}
    assert report["per_class"]["red_circles"]["support"] == 12
    assert report["confusion"]["labels"] == ["blue_squares", "green_bars", "red_circles"]
    assert all(set(m) == {"path", "true", "predicted", "probability"} for m in report["misclassified"])


def test_evaluate_names_breeds_the_model_does_not_know(cli_model, tmp_path, cli):
    out, _, _ = cli_model
    for seed, label in enumerate(("red_circles", "Sphynx")):
        (tmp_path / "d" / label).mkdir(parents=True)
        for i in range(2):
            (tmp_path / "d" / label / f"{i}.jpg").write_bytes(jpeg_bytes(drawn_photo("red_circles", 10 * seed + i)))
    result = cli("evaluate", tmp_path / "d", "--model", out)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1:] == [
        "error: The model does not know the breed(s) 'Sphynx'; it knows: blue_squares, green_bars, red_circles."
    ]


def test_an_export_that_disagrees_with_the_app_exits_1_and_says_so(cli_model, tmp_path, cli, monkeypatch):
    from catbreed.models import export

    out, _, _ = cli_model
    broken = export.ParityReport(photos=16, agreement=0.5, max_difference=0.9, flagged=True)
    # what the command does with a package that disagrees; converting one (test_export) adds nothing
    monkeypatch.setattr(ModelBundle, "export", lambda self, format, path, **options: path.write_bytes(b"") or path)
    monkeypatch.setattr(export, "check_parity", lambda *args: broken)
    result = cli("export", "--model", out, "--format", "tflite", "--out", tmp_path / "pkg")
    assert result.returncode == 1 and "DISAGREES with the app" in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("do not use it.")


def test_predict_names_the_top_breeds(cli_model, tmp_path, cli):
    out, _, _ = cli_model
    photo = tmp_path / "shape.jpg"
    photo.write_bytes(jpeg_bytes(drawn_photo("green_bars", 77)))
    report = last_json(cli("predict", photo, "--model", out, "--top-k", 2, "--json"))
    (prediction,) = report["predictions"]
    assert prediction["image"] == str(photo) and isinstance(prediction["is_cat"], bool)
    assert prediction["top"][0]["label"] == "green_bars" and len(prediction["top"]) == 2
    assert "nearest" not in prediction  # only when asked
    assert prediction["verdict"] in VERDICTS and isinstance(prediction["familiarity"], float)


def test_predict_lists_the_nearest_photos_of_the_models_own_data_set(cli_model, shapes_zip, tmp_path, cli):
    out, _, _ = cli_model
    name = next(n for n in ModelBundle.load(out).neighbours.names_ if n.startswith("red_circles/"))
    with zipfile.ZipFile(shapes_zip) as zf:  # a photo it learned from: its nearest is itself
        (tmp_path / "own.jpg").write_bytes(zf.read(name))
    drawn = tmp_path / "new.jpg"
    drawn.write_bytes(jpeg_bytes(drawn_photo("blue_squares", 77)))
    report = last_json(cli("predict", tmp_path / "own.jpg", drawn, "--model", out, "--nearest", 3, "--json"))
    own, new = report["predictions"]
    assert [set(n) for n in own["nearest"]] == [{"photo", "breed", "similarity"}] * 3
    assert own["nearest"][0] == {"photo": name, "breed": "red_circles", "similarity": 1.0}
    assert [n["breed"] for n in new["nearest"]] == ["blue_squares"] * 3  # alike photos are of its breed
    sims = [n["similarity"] for n in new["nearest"]]
    assert sims == sorted(sims, reverse=True) and all(-1 <= x <= 1 for x in sims)
    refused = cli("predict", drawn, "--nearest", 2)  # the built-in model keeps no photos
    assert refused.returncode == 2 and "keeps no photos to compare with" in refused.stderr


def test_export_and_info(cli_model, tmp_path, cli):
    out, _, _ = cli_model
    exported = last_json(cli("export", "--model", out, "--format", "tflite", "--out", tmp_path / "pkg", "--json"))
    assert exported["out"] == str(tmp_path / "pkg") and (tmp_path / "pkg" / "model.tflite").is_file()
    assert exported["parity"]["agreement"] == 1.0 and exported["parity"]["flagged"] is False
    info_json = last_json(cli("info", out, "--json"))
    assert info_json["classes"] == ["blue_squares", "green_bars", "red_circles"]
    assert info_json["metrics"]["expected_accuracy"]["method"]
    info = cli("info", out)
    assert info.returncode == 0 and "blue_squares, green_bars, red_circles" in info.stdout
    assert STANDIN_BACKBONE in info.stdout and "expected accuracy on new photos" in info.stdout


@pytest.mark.slow
def test_a_new_process_trains_the_default_model_and_names_imagenet_classes(shapes_zip, tmp_path):
    """End to end as a user types it, from an empty CATBREED_HOME: the real Lite0, a new Python,
    and neither TensorFlow nor Keras imported (they cost seconds that training does not need)."""
    home, out = tmp_path / "home", tmp_path / "model"
    result = catbreed("train", shapes_zip, "--out", out, "--json", home=home, PYTHONPROFILEIMPORTTIME="1")
    report = last_json(result)
    assert report["metrics"]["expected_accuracy"]["value"] >= 0.9 and report["backbone"] == "efficientnet_lite0"
    assert "Traceback" not in result.stderr
    photo = tmp_path / "shape.jpg"
    photo.write_bytes(jpeg_bytes(drawn_photo("green_bars", 77)))
    predicted = catbreed("predict", photo, "--json", home=home, PYTHONPROFILEIMPORTTIME="1")
    builtin = last_json(predicted)
    assert len(builtin["predictions"][0]["top"]) == 3 and builtin["predictions"][0]["is_cat"] is False
    assert builtin["predictions"][0]["verdict"] == "not_a_cat"  # the built-in model names no breed for it
    for run in (result, predicted):
        imported = {
            line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")
        }
        assert "numpy" in imported and "ai_edge_litert" in imported  # the import log is really there
        assert not {"tensorflow", "keras"} & imported


def test_every_training_setting_has_a_flag_with_its_help():
    import dataclasses

    from catbreed.cli import build_parser
    from catbreed.learn.settings import TrainSettings

    train_help = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for setting in dataclasses.fields(TrainSettings):
        flag = setting.name.replace("_", "-")
        assert f"--{flag}" in train_help or f"--no-{flag}" in train_help, flag


@pytest.mark.parametrize(("flags", "augment"), [([], False), (["--augment"], True), (["--no-augment"], False)])
def test_mirror_images_follow_the_flag_or_the_modes_default(flags, augment):
    from catbreed.cli import build_parser
    from catbreed.learn.settings import TrainSettings

    args = build_parser().parse_args(["train", "x.zip", *flags])
    assert TrainSettings(mode=args.mode, augment=args.augment).augment is augment
    accurate = build_parser().parse_args(["train", "x.zip", "--mode", "accurate"])
    assert TrainSettings(mode=accurate.mode, augment=accurate.augment).augment is True


def make_bad_inputs(tmp_path: Path) -> dict[str, Path]:
    one_class = tmp_path / "one.zip"
    with zipfile.ZipFile(one_class, "w") as zf:
        for i in range(3):
            zf.writestr(f"Siamese/{i}.jpg", jpeg_bytes(drawn_photo("red_circles", i)))
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../../escape.jpg", b"x")
    text = tmp_path / "notes.zip"
    text.write_text("hello")
    return {"one class": one_class, "zip slip": slip, "not a zip": text, "missing": tmp_path / "nope.zip"}


@pytest.mark.parametrize("case", ["one class", "zip slip", "not a zip", "missing"])
def test_bad_data_exits_2_with_one_line_and_no_traceback(tmp_path, case, cli):
    result = cli("train", make_bad_inputs(tmp_path)[case], "--out", tmp_path / "m")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in result.stderr
    assert [line for line in lines if not line.startswith("checking photos:")] == lines[-1:]  # progress, then 1 line
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "/etc/hostname"],
        ["predict", "no-such-photo.jpg"],
        ["info", "/tmp"],
        ["train", "x.zip", "--inverse-regularization", "0"],
        ["train", "x.zip", "--mode", "slow"],
        ["export", "--model", "/tmp", "--format", "tflite"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, cli):
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


def test_train_into_the_models_folder_keeps_its_name_rules_and_never_overwrites_silently(shapes_zip, own_home, cli):
    from catbreed.models.store import ModelStore

    store = ModelStore()
    flags = ["--backbone", STANDIN_BACKBONE, "--test-percent", 0]
    assert cli("train", shapes_zip, "--out", store.root / "shapes", *flags).returncode == 0
    again = cli("train", shapes_zip, "--out", store.root / "shapes", *flags)
    assert again.returncode == 2 and "A model exists already at" in again.stderr and "--replace" in again.stderr
    assert "checking photos" not in again.stderr  # refused before minutes of work, not after
    bad = cli("train", shapes_zip, "--out", store.root / "new\nline", *flags)
    assert bad.returncode == 2 and "Model names cannot contain '\\n'" in bad.stderr
    assert cli("train", shapes_zip, "--out", store.root / "shapes", "--replace", *flags).returncode == 0
    assert [m.name for m in store.list()] == ["shapes"]


def test_the_default_model_for_everyone_is_shown_and_changed_on_purpose(cli_model, tmp_path, cli, monkeypatch):
    import shutil

    from catbreed.models.store import ModelStore

    monkeypatch.setenv("CATBREED_HOME", str(tmp_path / "home"))
    shutil.copytree(cli_model[0], ModelStore().root / "shapes")
    assert last_json(cli("default", "--json")) == {"default": None}
    assert "is now shapes" in cli("default", "shapes").stdout
    assert ModelStore().default_name() == "shapes"
    assert cli("default", "nope").stderr.startswith("error: No saved model named 'nope'")
    assert last_json(cli("default", "--builtin", "--json")) == {"default": None}


def test_the_command_line_leaves_no_temporary_folder_behind_even_when_it_fails(tmp_path, cli, monkeypatch):
    from catbreed.paths import temp_root

    monkeypatch.setenv("CATBREED_HOME", str(tmp_path / "home"))
    for case in ("one class", "zip slip"):
        assert cli("train", make_bad_inputs(tmp_path)[case], "--out", tmp_path / "m").returncode == 2
    assert list(temp_root().iterdir()) == []


def test_the_operator_signs_browsers_out_and_revokes_one_from_the_command_line(tmp_path, cli, monkeypatch):
    from catbreed.access import PassBook

    monkeypatch.setenv("CATBREED_HOME", str(tmp_path))
    book = PassBook(tmp_path)
    mine, theirs = book.issue(sign_in=True), book.issue(sign_in=True)
    assert "Every browser is signed out." in cli("passes", "sign-out").stdout
    assert not book.read(mine).signed_in() and not book.read(theirs).signed_in()
    identity = book.read(theirs).identity
    assert last_json(cli("passes", "revoke", identity, "--json")) == {"action": "revoke", "identity": identity}
    assert book.read(theirs) is None and book.read(mine) is not None
    assert cli("passes", "revoke").stderr.startswith("error: Name the identity to revoke")


@pytest.mark.slow  # builds and installs a wheel in new processes
def test_pip_install_gives_the_library_alone_that_a_worker_needs(tmp_path):
    """`pip install .` once failed ("Multiple top-level packages discovered in a flat-layout"); the
    README's scale-out recipe installs catbreed on the scheduler and workers that way."""
    wheels, target = tmp_path / "wheels", tmp_path / "installed"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT), "-w", str(wheels)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("catbreed-*.whl")
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)]
    assert subprocess.run(install, capture_output=True, timeout=300).returncode == 0
    assert sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info")) == ["catbreed"]
    check = "from catbreed.models.predict import imagenet_labels; import catbreed.jobs; print(len(imagenet_labels()))"
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1000"


def test_under_a_portuguese_lang_it_speaks_portuguese_and_its_json_stays_the_same(
    cli, cli_model, monkeypatch, tmp_path
):
    out, english_report, _ = cli_model
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    english_info = cli("info", out, "--json")
    monkeypatch.setenv("LANG", "pt_BR.UTF-8")
    assert last_json(cli("info", out, "--json")) == last_json(english_info)  # codes and numbers: no language
    info = cli("info", out)
    assert "  raças        3: blue_squares, green_bars, red_circles" in info.stdout
    assert "acurácia esperada em fotos novas" in info.stdout and "%" in info.stdout
    missing = tmp_path / "nenhuma.jpg"
    refused = cli("predict", missing, "--model", out)
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"erro: Não há arquivo em '{missing}'; informe o caminho de uma foto."
    again = cli("train", out.parent / "nowhere.zip", "--out", tmp_path / "m2", "--backbone", STANDIN_BACKBONE)
    assert again.stderr.startswith("erro: Não há arquivo nem pasta em")


def test_a_model_trained_in_portuguese_reads_in_english_and_the_other_way(cli, shapes_zip, tmp_path, monkeypatch):
    from catbreed.models.bundle import ModelBundle
    from catbreed.models.card import model_card

    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "pt_BR.UTF-8")
    out = tmp_path / "modelo"
    trained = cli("train", shapes_zip, "--out", out, "--backbone", STANDIN_BACKBONE)
    assert trained.returncode == 0 and "aviso: Raças com menos de 20 fotos são aprendidas pior" in trained.stderr
    assert "verificando as fotos" in trained.stderr and "Salvo" in trained.stdout
    meta = ModelBundle.load(out).metadata
    assert model_card("modelo", meta).count("- Warning: Breeds with fewer than 20 photos learn less well") == 1
    assert "- Aviso: Raças com menos de 20 fotos são aprendidas pior" in model_card("modelo", meta, "pt_BR")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert "expected accuracy on new photos" in cli("info", out).stdout

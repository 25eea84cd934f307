"""Every word a person reads has an identity (a code) apart from its words, in two complete catalogues."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from catbreed.data.dataset import check_folder
from catbreed.errors import CatbreedError
from catbreed.messages import ENGLISH, LANGUAGES, PORTUGUESE, Message, catalogue, language_of, message, percent, text

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*ROOT.glob("catbreed/**/*.py"), *ROOT.glob("pages/**/*.py"), ROOT / "app.py"]
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# Calls whose first argument is a message's code.
SPEAKERS = {"CatbreedError", "message", "Message", "text", "t", "tn"}


def literals() -> set[str]:
    found = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def spoken_codes() -> dict[str, str]:
    """Each code given to a speaking call as a literal, with where."""
    found = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in SPEAKERS and isinstance(node.args[0].value, str) and CODE.match(node.args[0].value):
                    found[node.args[0].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_both_catalogues_hold_the_same_codes_with_the_same_placeholders():
    english, portuguese = catalogue(ENGLISH), catalogue(PORTUGUESE)
    assert english.codes == portuguese.codes and english.plurals == portuguese.plurals
    for code in english.codes:
        forms = {language: set() for language in LANGUAGES}
        for language in LANGUAGES:
            chosen = catalogue(language)
            for n in (1, 2, 5):
                words = chosen.words(code, n)
                assert words != code, f"{code} has no words in {language}"
                forms[language] |= {name for _, name, _, _ in string.Formatter().parse(words) if name}
        assert forms[ENGLISH] == forms[PORTUGUESE], code


def test_every_code_the_code_speaks_has_words_and_every_entry_is_spoken():
    codes = catalogue(ENGLISH).codes
    missing = {code: where for code, where in spoken_codes().items() if code not in codes}
    assert missing == {}, "codes without catalogue entries"
    unused = codes - literals()
    assert unused == set(), "catalogue entries no code uses"


def test_a_plural_follows_the_count_in_each_language():
    one, many = (
        message("dataset.skipped_summary", n=1, reasons=["x"]),
        message("dataset.skipped_summary", n=24, reasons=["x"]),
    )
    assert (one.text(PORTUGUESE), many.text(PORTUGUESE)) == (" 1 arquivo ignorado: x.", " 24 arquivos ignorados: x.")
    assert (one.text(ENGLISH), many.text(ENGLISH)) == (" 1 file skipped: x.", " 24 files skipped: x.")


def test_numbers_are_written_as_each_language_writes_them():
    refused = message("archive.too_many_entries", name="gatos.zip", count=51234, limit=50000)
    assert text(refused, PORTUGUESE) == "'gatos.zip' tem 51.234 itens; o limite é 50.000. Divida-o em zips menores."
    assert text(refused) == "'gatos.zip' holds 51,234 entries; the limit is 50,000. Split it into smaller zips."
    assert (percent(0.925, PORTUGUESE), percent(0.925)) == ("92,5%", "92.5%")


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("pt-BR", PORTUGUESE),
        ("pt_BR.UTF-8", PORTUGUESE),
        ("pt-PT", PORTUGUESE),
        ("en-US", ENGLISH),
        ("de", ENGLISH),
        ("", ENGLISH),
        ("C.UTF-8", ENGLISH),
        (None, ENGLISH),
    ],
)
def test_the_language_comes_from_a_browsers_or_a_shells_tag(tag, language):
    assert language_of(tag) == language


def test_an_error_carries_its_code_and_speaks_english_in_logs(tmp_path):
    from conftest import make_dataset_folder

    root = make_dataset_folder(tmp_path / "one", per_class=3, kinds=("red_circles",))
    (root / "red_circles" / "notes.txt").write_text("not a photo")
    with pytest.raises(CatbreedError) as refused:
        check_folder(root)
    assert refused.value.message.code == "dataset.too_few_breeds"
    assert str(refused.value).startswith("Training needs at least 2 breed folders")
    assert refused.value.message.text(PORTUGUESE) == (
        "O treino precisa de pelo menos 2 pastas de raças com pelo menos 2 fotos utilizáveis cada; "
        "encontradas 1: 'red_circles' (3). 1 arquivo ignorado: não é uma imagem (1)."
    )


def test_a_stored_message_reads_back_in_either_language_and_old_text_stays_as_it_was():
    warning = message("dataset.few_photos", minimum=20, breeds=[message("dataset.breed_count", breed="Persa", n=3)])
    stored = warning.to_json()
    assert Message.from_json(stored) == warning
    assert Message.from_json(stored).text(PORTUGUESE) == "Raças com menos de 20 fotos são aprendidas pior: 'Persa' (3)."
    assert Message.from_json("Breeds are unbalanced").text(PORTUGUESE) == "Breeds are unbalanced"  # a model from before


PROSE = re.compile(r"[A-Za-z]{2,}[,.;:]? [A-Za-z]{2,}")


def words_on_pages() -> list[str]:
    """String literals of the pages that read as words (two words or more), docstrings aside."""
    found = []
    for path in [*ROOT.glob("pages/**/*.py"), ROOT / "app.py"]:
        tree = ast.parse(path.read_text(), str(path))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        # Not for people to read: the operator's log lines, names the library gives its data (dict
        # keys), and code (the cookie's JavaScript, the camera's HTML, the network drawing's Graphviz).
        skipped = set(docstrings)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "value", None) is not None:
                if getattr(node.func.value, "id", None) == "log" and node.args:
                    skipped.add(id(node.args[0]))
            if isinstance(node, ast.Dict):
                skipped |= {id(key) for key in node.keys if key is not None}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
                code = ("{" in node.value and ";" in node.value) or node.value.lstrip().startswith("<")
                if PROSE.search(node.value) and not code:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    return found


def test_no_words_reach_a_page_but_through_the_catalogues():
    """A sentence written into a page would show in English to a Portuguese reader: pages say
    everything through t(code)."""
    assert words_on_pages() == []


def test_a_message_missing_a_parameter_its_words_name_still_shows():
    """A message from an older version, or a worker's, may lack one: the page shows the rest."""
    assert text(message("archive.empty")) == "'{name}' is empty; expected a .zip of breed folders."

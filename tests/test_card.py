"""The model card: every breed, the figures it was judged by, its confusions and its limits."""

from dataclasses import replace

from test_metadata import example

from catbreed.models.card import model_card, most_confused
from catbreed.models.metadata import CurvePoint


def test_the_card_lists_every_breed_with_its_counts_and_results(trained):
    card = model_card("shapes v1", trained.bundle.metadata)
    assert card.startswith("# shapes v1\n")
    for breed in trained.bundle.classes:
        shown = breed.replace("_", "\\_")
        assert f"| {shown} | 12 |" in card  # the data table
        assert card.count(f"| {shown} |") == 2  # and the results table
    assert trained.estimate.describe() in card and "calibration error" in card
    assert "## Known limits" in card and "It knows only these 3 breeds" in card
    assert "It carries up to 16 of its training photos" in card  # whoever gets the model gets them
    summary = trained.bundle.metadata.metrics.verdicts
    assert f"named a breed for {summary.named:.0%} of the photos it learned from" in card
    assert "S x S" not in card and f"({trained.bundle.image_size} x {trained.bundle.image_size} px," in card


def test_training_times_under_ten_seconds_keep_a_decimal():
    from catbreed.models.card import describe_seconds

    assert [describe_seconds(s) for s in (0.42, 12.4, 185)] == ["0.4 s", "12 s", "3 min 5 s"]


def test_the_breeds_it_confuses_most_come_first():
    metadata = example()  # one Bengal taken for a Birman
    assert most_confused(metadata) == [("Bengal", "Birman", 1)]
    assert "- Bengal taken for Birman: 1 photo\n" in model_card("m", metadata)


def test_a_data_sets_licence_is_quoted_for_citing_it():
    metadata = example()
    noted = replace(
        metadata, data=replace(metadata.data, notes="Photos: Oxford-IIIT Pet, CC BY-SA 4.0.\nCite Parkhi et al. 2012.")
    )
    card = model_card("m", noted)
    assert "> Photos\\: Oxford\\-IIIT Pet, CC BY\\-SA 4\\.0\\.\n> Cite Parkhi et al\\. 2012\\." in card
    assert "Where the photos come from" not in model_card("m", metadata)


def test_breed_names_cannot_break_the_tables():
    metadata = example()
    metadata = replace(metadata, data=replace(metadata.data, counts={"Bengal | evil": 2, "Birman": 1}))
    assert "| Bengal \\| evil | 2 |" in model_card("m", metadata)


HOSTILE = [
    "![x](http://attacker.example/pixel.png)",
    "[Sign in again](http://attacker.example/login)",
    "# 99.9% accurate",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ `code`",
]


def test_user_text_never_becomes_markup_in_the_card():
    import re

    import markdown_it

    metadata = example()
    counts = dict.fromkeys(HOSTILE, 3)
    hostile = replace(metadata, data=replace(metadata.data, counts=counts, notes="\n".join(HOSTILE)))
    card = model_card(HOSTILE[1], hostile)
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(card)
    assert (
        "<img" not in html
        and "<a " not in html
        and "href=" not in html
        and "src=" not in html.replace("&lt;img src=", "")
    )
    assert len(re.findall("<h1>", html)) == 1  # the card's own title, not the README's "# 99.9%"
    assert html.count("**bold** _it_ `code`") == 2  # in the table and the quote, as typed
    for text in ("Sign in again", "99.9% accurate", "onerror=alert(1)"):
        assert text in html  # the words stay


def test_the_card_says_what_more_photos_would_add_and_that_it_keeps_its_photos_names(trained):
    meta = trained.bundle.metadata
    curve = [CurvePoint(8, 0.7, 0.6, 0.8, {"Red*": 0.5}), CurvePoint(16, 0.8, 0.7, 0.9, {"Red*": 0.7})]
    card = model_card("shapes", replace(meta, metrics=replace(meta.metrics, learning_curve=curve)))
    assert "With about 16 photos per breed it is right 80% of the time; with 8 it was 10% less" in card
    assert "More photos of Red\\* would help most" in card  # a breed's name is text, never Markdown
    assert f"It keeps where {len(trained.bundle.neighbours.names_)} of its training photos sit" in card
    assert "With about" not in model_card("shapes", replace(meta, metrics=replace(meta.metrics, learning_curve=[])))

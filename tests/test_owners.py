"""Passes (who a browser is, signed) and owners (what they may do with a data set or a model)."""

import json
import zipfile

import pytest

from catbreed.access import ADMIN_HOURS, SIGN_IN_DAYS, PassBook
from catbreed.data.saved_datasets import DatasetStore
from catbreed.errors import CatbreedError
from catbreed.models.store import OWNER_FILE, ModelStore
from catbreed.owners import Ownership, Visitor

NOW = 1_800_000_000.0


def test_a_pass_reads_back_and_its_sign_in_and_operator_times_end(tmp_path):
    book = PassBook(tmp_path)
    token = book.issue(sign_in=True, admin=True, now=NOW)
    found = book.read(token, now=NOW + 1)
    assert len(found.identity) == 32 and found.signed_in(NOW + 1) and found.admin(NOW + 1)
    assert not found.admin(NOW + ADMIN_HOURS * 3600 + 1) and found.signed_in(NOW + ADMIN_HOURS * 3600 + 1)
    assert not found.signed_in(NOW + SIGN_IN_DAYS * 86400 + 1)
    plain = book.read(book.issue(found.identity, now=NOW), now=NOW)
    assert plain.identity == found.identity and not plain.signed_in(NOW) and not plain.admin(NOW)


def test_a_forged_or_altered_pass_is_no_pass(tmp_path):
    book = PassBook(tmp_path)
    token = book.issue(now=NOW)
    identity, issued, signed_in, admin, signature = token.split(".")
    longer = f"{identity}.{issued}.{int(NOW) + 10**6}.{admin}.{signature}"  # "signed in" without the password
    other = f"{'0' * 32}.{issued}.{signed_in}.{admin}.{signature}"  # someone else's identity
    for bad in (longer, other, token + "0", token[:-1], "", None, 42, "x" * 5000, token.replace(".", ",")):
        assert book.read(bad, now=NOW) is None, bad
    assert PassBook(tmp_path / "another server").read(token, now=NOW) is None  # another secret
    assert PassBook(tmp_path).read(token, now=NOW).identity == identity  # the same server, restarted


def test_the_secret_is_the_servers_alone(tmp_path):
    PassBook(tmp_path)
    assert (tmp_path / ".secret").stat().st_mode & 0o777 == 0o600


def test_signing_out_ends_every_earlier_pass_of_that_identity_and_revoking_ends_the_identity(tmp_path):
    book = PassBook(tmp_path)
    mine = book.issue(sign_in=True, now=NOW)
    copy_elsewhere = mine  # a copy of the cookie, taken before the sign-out
    theirs = book.issue(sign_in=True, now=NOW)
    identity = book.read(mine).identity
    book.sign_out(identity, now=NOW + 5)
    assert not book.read(copy_elsewhere, now=NOW + 6).signed_in(NOW + 6)
    assert book.read(copy_elsewhere, now=NOW + 6).identity == identity  # still the owner of their things
    assert book.read(theirs, now=NOW + 6).signed_in(NOW + 6)
    assert book.read(book.issue(identity, sign_in=True, now=NOW + 7), now=NOW + 8).signed_in(NOW + 8)
    book.sign_out(now=NOW + 9)  # everyone
    assert not book.read(theirs, now=NOW + 10).signed_in(NOW + 10)
    book.revoke(identity)
    assert book.read(book.issue(identity, now=NOW + 11), now=NOW + 12) is None


def test_who_may_do_what():
    mine, shared_by_them, theirs, house = (
        Ownership("me"),
        Ownership("them", shared=True),
        Ownership("them"),
        Ownership(),
    )
    me = Visitor("me", admin_password_set=True)
    assert [me.may_open(t) for t in (mine, shared_by_them, theirs, house)] == [True, True, False, True]
    assert [me.may_change(t) for t in (mine, shared_by_them, theirs, house)] == [True, False, False, False]
    assert not me.may_act_for_everyone()
    operator = Visitor("op", admin=True, admin_password_set=True)
    assert all(operator.may_change(t) and operator.may_open(t) for t in (mine, theirs, house))
    assert operator.may_act_for_everyone()
    no_operator = Visitor("me")  # a server without an admin password: the house's things are everyone's
    assert no_operator.may_change(house) and not no_operator.may_change(theirs) and no_operator.may_act_for_everyone()
    assert Ownership.from_json({"owner": ["not", "an", "id"], "shared": "yes"}) == Ownership()


def test_a_model_keeps_its_owner_out_of_its_download_and_the_default_must_be_shared(trained, tmp_path):
    store = ModelStore(tmp_path)
    store.save(trained.bundle, "mine", owner="me")
    assert store.find("mine").ownership == Ownership("me")
    assert json.loads((tmp_path / "mine" / OWNER_FILE).read_text()) == {"owner": "me", "shared": False}
    with zipfile.ZipFile(store.zip_file("mine")) as zf:
        assert "mine/metadata.json" in zf.namelist() and not any(OWNER_FILE in n for n in zf.namelist())
    with pytest.raises(CatbreedError, match="Share 'mine' first"):
        store.set_default("mine")
    store.share("mine", True)
    store.set_default("mine")
    with pytest.raises(CatbreedError, match="choose another default first"):
        store.share("mine", False)
    assert store.find("mine").ownership == Ownership("me", shared=True)
    store.save(trained.bundle, "the cli's")
    assert store.find("the cli's").ownership == Ownership()


def test_a_model_not_shared_with_the_visitor_is_as_good_as_gone(trained, tmp_path):
    store = ModelStore(tmp_path)
    store.save(trained.bundle, "theirs", owner="them")
    assert store.choose("theirs", Visitor("them")).model.name == "theirs"
    refused = store.choose("theirs", Visitor("me"))
    assert refused.model is None and "is not here (deleted, or not shared with you)" in str(refused.notice)
    assert store.choose("theirs", Visitor("me", admin=True)).model.name == "theirs"
    assert store.choose("theirs").model.name == "theirs"  # the CLI: the operator's own machine


def test_a_data_set_records_its_owner_and_sharing_it_is_not_a_new_version(tmp_path):
    datasets = DatasetStore(tmp_path)
    saved = datasets.create("my cats", owner="me")
    assert saved.ownership == Ownership("me") and saved.version == 0
    saved.share(True)
    assert saved.ownership == Ownership("me", shared=True) and saved.version == 0
    saved.share(False)
    assert datasets.get(saved.id).ownership == Ownership("me")
    assert datasets.create("the cli's").ownership == Ownership()

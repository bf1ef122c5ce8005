"""The signed links to a client's own page, on the in-memory store: they open their own counterparty's page
until they expire or are revoked, and a changed character, another workspace's secret or a well-signed
payload of the wrong shape opens nothing."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from itsdangerous.encoding import base64_decode

from firmly.adapters.memory import MemoryStore
from firmly.domain.events import validate
from firmly.service import ingest, own_page, workspace

NOW = 1_800_000_000_000_000  # µs
DAY = 86_400_000_000


def shop(name: str) -> MemoryStore:
    store = MemoryStore(name)
    workspace.init(store, "en", "UTC", 0)
    for key in ("tom", "lucy"):
        raw = {"id": f"cp-{key}", "type": "counterparty.upserted", "counterparty": key,
               "occurred_at": "2026-05-01T08:00:00+00:00", "data": {"kind": "client", "name": key.title()}}
        assert not ingest.ingest(store, [("t", 1, validate(raw))], now=NOW).rejected
    return store


def token(store: MemoryStore, key: str, now: int = NOW) -> str:
    return own_page.show_link(store, key, now).rsplit("/", 1)[1]


def test_a_link_opens_its_own_page_until_it_expires() -> None:
    store = shop("a")
    found = token(store, "tom")
    assert own_page.holder(store, found, NOW) == "tom"
    assert own_page.holder(store, found, NOW + 30 * DAY - 1_000_000) == "tom"
    with pytest.raises(own_page.Refusal, match="expired"):
        own_page.holder(store, found, NOW + 30 * DAY)
    assert own_page.holder(store, token(store, "lucy"), NOW) == "lucy"


def test_revoking_ends_every_earlier_link_of_that_counterparty_only() -> None:
    store = shop("a")
    tom, lucy = token(store, "tom"), token(store, "lucy")
    assert own_page.revoke(store, "tom") == 1
    with pytest.raises(own_page.Refusal, match="revoked"):
        own_page.holder(store, tom, NOW)
    assert own_page.holder(store, token(store, "tom"), NOW) == "tom"
    assert own_page.holder(store, lucy, NOW) == "lucy"


def test_another_workspaces_link_opens_nothing_here() -> None:
    a, b = shop("a"), shop("b")
    with pytest.raises(own_page.Refusal, match="broken"):
        own_page.holder(b, token(a, "tom"), NOW)
    with a.read():
        secret = a.settings()[own_page.SECRET]
    with b.write():
        b.set_setting(own_page.SECRET, secret)  # even under the same secret: the workspace is signed in
    with pytest.raises(own_page.Refusal, match="broken"):
        own_page.holder(b, token(a, "tom"), NOW)


@pytest.mark.parametrize("payload", [["tom", 0], ["tom", "0", 9_999_999_999], ["tom", True, 9_999_999_999],
                                     {"k": "tom"}, "tom", [7, 0, 9_999_999_999]])
def test_a_well_signed_payload_of_the_wrong_shape_opens_nothing(payload: object) -> None:
    store = shop("a")
    token(store, "tom")
    with store.read():
        secret = store.settings()[own_page.SECRET]
    forged = URLSafeSerializer(secret, salt=f"{own_page.SALT}:a",
                               signer_kwargs={"digest_method": hashlib.sha256}).dumps(payload)
    with pytest.raises(own_page.Refusal, match="broken"):
        own_page.holder(store, forged, NOW)


STORE = shop("p")
GOOD = token(STORE, "tom")


@settings(max_examples=200, deadline=None)
@given(at=st.integers(0, len(GOOD) - 1), char=st.sampled_from("ABCabc019-_."))
def test_any_changed_character_opens_nothing(at: int, char: str) -> None:
    changed = GOOD[:at] + char + GOOD[at + 1:]
    if changed == GOOD:
        return
    try:
        own_page.holder(STORE, changed, NOW)
    except own_page.Refusal:
        return
    # base64 leaves spare bits in a part's last character: only a change there that decodes to the very same
    # bytes (the same token, written otherwise) may open the page
    assert [base64_decode(p) for p in changed.split(".")] == [base64_decode(p) for p in GOOD.split(".")]


def test_the_secret_and_the_generations_are_hidden_settings() -> None:
    assert own_page.hidden(own_page.SECRET) and own_page.hidden(own_page.GENERATION + "tom")
    assert not own_page.hidden("page_url") and not own_page.hidden("sender_name")

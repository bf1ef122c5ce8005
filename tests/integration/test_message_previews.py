"""The preview of every message a rulebook sends: per step and language, with the workspace's sender and
signature, through the page."""

from __future__ import annotations

from pathlib import Path

from firmly import bootstrap
from firmly.service import demo, outbox, previews, rulebooks, users, workspace
from tests.integration.test_web import PASSWORD, Site

PARTNERS = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "partners-en"


def test_every_step_in_both_languages_with_the_sender(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = bootstrap.store(url, "w")
    demo.demo(store, "clinic-en", 0)
    outbox.set_setting(store, "sender_name", "Bright Smile front desk")
    outbox.set_setting(store, "signature", "Dr Jones and the team")
    found = previews.previews(store, "smile")
    late = [p for p in found if p.rule == "Cancel at least 12 hours before your visit"]
    assert {(p.action, p.lang) for p in late} >= {("reminder", "en"), ("reminder", "ru"), ("fee", "en"),
                                                   ("fee", "ru"), ("suspend", "en"), ("thanks", "ru")}
    (fee,) = [p for p in late if p.action == "fee" and p.lang == "en"]
    assert fee.when == "a fee of £25.00" and "£25.00" in fee.body
    assert fee.body.startswith("Dear Anna Smith,") and fee.body.rstrip().endswith("Dr Jones and the team")
    (ru,) = [p for p in late if p.action == "fee" and p.lang == "ru"]
    assert ru.body.startswith("Здравствуйте, Анна Петрова!") and "штраф 25,00\xa0£" in ru.when
    assert "(your visit on " in fee.body and "(ваш визит " in ru.body, "the cited event is a visit in words"
    assert not [p for p in found if "event-1" in p.body], "no sample event id in a sentence"

    users.create(store, "previews-desk@example.org", "viewer", PASSWORD, 0)
    site = Site(url, "w")
    with site.client() as c:
        site.login(c, "previews-desk@example.org")
        page = c.get("/messages?rulebook=smile&lang=ru").text
        assert "Здравствуйте, Анна Петрова!" in page and "Dear Anna Smith" not in page
        assert "Dr Jones and the team" in page
        assert "See every message a rulebook sends" in c.get("/outbox").text


def test_a_step_that_writes_to_a_role_says_so_in_the_preview(tmp_path: Path) -> None:
    store = bootstrap.store(f"sqlite:///{tmp_path / 'p.db'}", "p")
    workspace.init(store, "en", "Europe/London", 0)
    rulebooks.load(store, rulebooks.read(PARTNERS / "rulebook.yaml"), 0)
    found = previews.previews(store, "partner-conduct")
    warnings = {p.lang: p.when for p in found if p.action == "warning"}
    assert warnings["en"] == "a warning about the next step; the message goes to your management"
    assert warnings["ru"] == "предупреждение о следующем шаге; адресат сообщения — руководство"
    assert {p.when for p in found if p.action == "feedback" and p.lang == "en"} == {
        "feedback — what happened and what it costs you"}

"""A rulebook's own names (`labels:`): checked by line like every other section, and what the appendix
and the explanations call its channels, tiers, services and field paths."""

from __future__ import annotations

import pytest
from tests.unit.conftest import CLINIC, book, fold, msk, raw

from firmly.domain.errors import InvalidInput
from firmly.domain.explain import explain
from firmly.domain.labels import for_language
from firmly.domain.render import render_markdown
from firmly.domain.vocabulary import Words
from firmly.doors.catalogues import translations

LABELLED = CLINIC.replace("applies_to: [client]\n", """applies_to: [client]
labels:
  ru:
    vip: особый
    appointment.starts_at: время приёма
  en:
    vip: premier
""", 1)


def test_labels_name_the_tier_and_the_field_in_the_appendix() -> None:
    b = book(LABELLED)
    assert b.labels == {"ru": {"vip": "особый", "appointment.starts_at": "время приёма"}, "en": {"vip": "premier"}}
    ru = render_markdown(b, "ru", translations("ru"))
    assert "Для тарифа «особый»" in ru
    assert "до срока «время приёма»" in ru
    en = render_markdown(b, "en", translations("en"))
    assert 'For the tier "premier"' in en
    assert "before the appointment starts" in en, "unlabelled in English: the vocabulary names it"
    assert "vip" not in ru + en and "starts_at" not in ru + en


@pytest.mark.parametrize(("labels", "line", "field", "says"), [
    ("labels: [a, b]\n", 8, "labels", "mapping of languages"),
    ("labels:\n  de: {vip: x}\n", 9, "labels.de", "ru or en"),
    ("labels:\n  ru: [vip]\n", 9, "labels.ru", "mapping of keys"),
    ("labels:\n  ru:\n    vip: 3\n", 10, "labels.ru.vip", "must be text"),
    ("labels:\n  en:\n    vip: \"\"\n", 10, "labels.en.vip", "must be text"),
    ("labels:\n  en:\n    vip: \"" + "x" * 201 + "\"\n", 10, "labels.en.vip", "at most 200"),
])
def test_a_wrong_label_is_named_by_its_line_and_field(labels: str, line: int, field: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        book(CLINIC.replace("applies_to: [client]\n", "applies_to: [client]\n" + labels, 1))
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (line, field)
    assert says in problem.message


def test_an_explanation_names_the_tier_by_its_label() -> None:
    b = book(LABELLED)
    events = [raw("cp", "counterparty.upserted", "vera", msk("2026-03-01T09:00"), kind="client", tier="vip"),
              raw("b1", "appointment.booked", "vera", msk("2026-03-01T10:00"), appointment="a1",
                  starts_at=msk("2026-03-05T10:00")),
              raw("c1", "appointment.cancelled", "vera", msk("2026-03-05T09:00"), appointment="a1", by="client")]
    (d,) = fold(b, events, until=msk("2026-03-06T00:00")).decisions("vera", action="surcharge")
    for lang, name in (("ru", "«особый»"), ("en", '"premier"')):
        text = explain(d, title="t", why="", next_step=None, locale=lang, timezone="Europe/Moscow",
                       words=Words(lang, translations(lang), for_language(b.labels, lang)))
        assert name in text and "vip" not in text

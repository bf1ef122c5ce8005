"""A rulebook's own names for what it defines: the `labels:` section.

    labels:
      ru: {email:orders: общая почта заказов, invoice.due_at: срок оплаты счёта, key: ключевой клиент}
      en: {email:orders: the orders mailbox}

Per language, a key (a channel, a field path, a service code, a tier, an event type) and the words a
reader sees instead of it. What a rulebook leaves unnamed the shared vocabulary names
(domain/vocabulary.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from firmly.domain.yamlmap import Path

if TYPE_CHECKING:
    from firmly.domain.checker import Checker

LANGUAGES = ("ru", "en")
LONGEST = 200  # a label is a name, not a paragraph

Labels = Mapping[str, Mapping[str, str]]  # language -> key -> words


def parse_labels(doc: Mapping[str, Any], c: Checker) -> dict[str, dict[str, str]]:
    """The `labels:` of a rulebook document; each problem goes to the checker with its path (and so its line)."""
    add = c.add
    raw = doc.get("labels")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        add(("labels",), "must be a mapping of languages (ru, en) to names, e.g. ru: {email:orders: почта заказов}")
        return {}
    out: dict[str, dict[str, str]] = {}
    for lang, names in raw.items():
        path: Path = ("labels", str(lang))
        if lang not in LANGUAGES:
            add(path, "labels are given per language: ru or en, got {value}", value=repr(lang))
            continue
        if not isinstance(names, dict):
            add(path, "must be a mapping of keys to the words a reader sees, e.g. email:orders: почта заказов")
            continue
        own: dict[str, str] = {}
        for key, text in names.items():
            where: Path = (*path, str(key))
            if not isinstance(text, str) or not text.strip():
                add(where, "must be text: the words a reader sees instead of the key")
            elif len(text) > LONGEST or "\n" in text:
                add(where, "must be one line of at most {count} characters", count=LONGEST)
            else:
                own[str(key)] = text.strip()
        out[str(lang)] = own
    return out


def for_language(labels: Labels, lang: str) -> Mapping[str, str]:
    return labels.get(lang) or {}

"""New entries in a rulebook's YAML (a rule, a ladder step, a tier, a price) written in the document's own style,
and the line diff a person reads before saving; the editing of existing fields is yamledit's."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from firmly.domain.yamledit import EditError, _dump, _indent_of, _load, _typed


@dataclass(frozen=True, slots=True)
class DiffLine:
    sign: str  # "+", "-", " " or "@" (a hunk's head)
    text: str


def diff(before: str, after: str) -> list[DiffLine]:
    """The change as a unified diff, by line, with three lines of context."""
    out: list[DiffLine] = []
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=3)
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        sign = "@" if line.startswith("@@") else line[:1] or " "
        out.append(DiffLine(sign, line if sign == "@" else line[1:]))
    return out


def names(text: str, group: str) -> list[str]:
    """The entries of a mapping section (`rules`, `ladders`, `tiers`, `prices`) as written."""
    doc = _load(text)
    found = doc.get(group) if isinstance(doc, dict) else None
    return [str(k) for k in found] if isinstance(found, dict) else []


def add(text: str, group: str, name: str, values: Mapping[str, str]) -> str:
    """The text with a new entry: a rule (`title`, `kind`), a ladder's step (`action`, `value`; `name` is the
    ladder), a price (`title`, `price`) or a tier, written at the end of its section in the style of the
    file. An entry of that name that exists already is an EditError; the caller checks the rest."""
    doc = _load(text)
    if not isinstance(doc, dict):
        raise EditError("the rulebook is not a YAML mapping of fields")
    name = name.strip()
    clean = {k: v.strip() for k, v in values.items() if v.strip()}
    if group == "steps":
        steps = (doc.get("ladders") or {}).get(name, {}).get("steps")
        if not isinstance(steps, list) or "action" not in clean:
            raise EditError(f"no ladder named {name!r} with steps")
        action = clean["action"]
        value = clean.get("value")
        tail = _take_tail(steps)
        steps.append(action if value is None else CommentedMap([(action, _typed(value, None, action))]))
        _put_tail(steps, tail)
        return _dump(doc, _indent_of(text))
    section = doc.get(group)
    if section is None:
        section = doc[group] = CommentedMap()
    if not isinstance(section, dict):
        raise EditError(f"{group} is not a mapping")
    if name in section:
        raise EditError(f"{name!r} exists already")
    tail = _take_tail(section)
    if group == "rules":
        section[name] = CommentedMap([(k, clean[k]) for k in ("title", "kind") if k in clean])
    elif group == "prices":
        entry = CommentedMap([("title", clean.get("title", name)),
                              ("price", DoubleQuotedScalarString(clean.get("price", "")))])
        entry.fa.set_flow_style()
        section[name] = entry
    elif group == "tiers":
        section[name] = CommentedMap([("exempt", _flow([]))])
    else:
        raise EditError(f"nothing can be added to {group}")
    _put_tail(section, tail)
    return _dump(doc, _indent_of(text))


def _take_tail(node: Any) -> Any:
    """The comment after a section's last line (the blank lines before the next one), taken off it, so that
    an entry added at the end comes before it rather than after."""
    while isinstance(node, CommentedMap | CommentedSeq) and node:
        last: Any = list(node.keys())[-1] if isinstance(node, CommentedMap) else len(node) - 1
        value = node[last]
        if isinstance(value, CommentedMap | CommentedSeq) and value and not value.fa.flow_style():
            node = value
            continue
        entry = node.ca.items.get(last)
        at = 2 if isinstance(node, CommentedMap) else 0
        if entry is not None and len(entry) > at and entry[at] is not None:
            token = entry[at]
            entry[at] = None
            return token
        return None
    return None


def _put_tail(node: Any, token: Any) -> None:
    """The comment taken by _take_tail, after the new last line."""
    if token is None:
        return
    if isinstance(node, CommentedMap):
        last = list(node.keys())[-1]
        value = node[last]
        if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
            _put_tail(value, token)
            return
        node.ca.items[last] = [None, None, token, None]
    elif isinstance(node, CommentedSeq):
        value = node[-1]
        if isinstance(value, CommentedMap) and value:
            _put_tail(value, token)
            return
        node.ca.items[len(node) - 1] = [token, None]


def _flow(items: list[object]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq

"""The rule editor's core: a rulebook's YAML read into sections of form fields, and form edits written back
into the same document, its comments, order and quoting kept (ruamel.yaml's round trip).

The YAML stays the source of truth: a form shows what is written, and an edit changes only the values it
names. A field is named by its path in the document, written as a JSON pointer (RFC 6901) after `y/`:
`y/rules/late_change/min_notice`, `y/ladders/attendance/steps/2/fee`. A blank value removes a field; a rule's
fields that are not written yet are offered empty, by its kind (engine/kinds). Validation is the rulebook's
own (`parse_rulebook`), run by the caller on the new text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, ScalarString

from firmly.domain.errors import FirmlyError
from firmly.domain.vocabulary import N_
from firmly.domain.yamlmap import YamlProblem, load_with_lines

PREFIX = "y/"
Key = str | int
YPath = tuple[Key, ...]

# The indentations tried when writing back: the first whose untouched dump is the text itself is kept
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4))
_HEAD = ("rulebook", "version", "title", "locale", "currency", "timezone", "effective_from", "applies_to",
         "description")
_LISTS = frozenset({"kept_by", "allowed", "applies_to", "exempt", "at"})
_MAPPINGS = frozenset({"weight", "remind"})  # a rule's fields that hold a mapping, not one value
_MONEY = frozenset({"fee", "price", "surcharge", "low_balance", "top_up", "credit_limit", "bill_amount"})
_ACCOUNT = ("mode", "low_balance", "top_up", "credit_limit")  # sections.ACCOUNT_FIELDS, in the order written
_LONG = 70  # characters: a longer text is edited in a text area

# The names of a rulebook's fields as a person reads them (a field nobody named reads as its key, plainly)
LABELS = {
    "rulebook": N_("identifier"), "version": N_("version"), "title": N_("title"), "locale": N_("language"),
    "currency": N_("currency"), "timezone": N_("time zone"), "effective_from": N_("in force from"),
    "applies_to": N_("applies to"), "description": N_("description"), "why": N_("why"), "kind": N_("kind"),
    "event": N_("event watched"), "min_notice": N_("minimum notice"), "before": N_("counted before"),
    "kept_by": N_("kept by"), "remind": N_("reminders"), "at": N_("when"), "ladder": N_("ladder"),
    "ladder_group": N_("ladder group"), "introduced": N_("introduced on"), "thank_for": N_("thanks after"),
    "when": N_("only when"), "expect": N_("expected event"), "due": N_("due"), "cutoff": N_("daily cutoff"),
    "grace": N_("grace period"), "allowed": N_("allowed channels"), "max": N_("at most"), "per": N_("per"),
    "sum": N_("summing"), "bill": N_("billed at"), "weight": N_("weights"), "max_late": N_("at most late"),
    "polite_only": N_("polite requests only"), "hostile": N_("hostile requests"),
    "undirected_profanity": N_("swearing aimed at nobody"), "window": N_("window"),
    "earn_back": N_("clean events to earn a step back"), "steps": N_("steps"),
    "fee": N_("fee"), "require_prepayment": N_("prepayment required for"), "suspend": N_("suspension for"),
    "terminate": N_("termination"), "review": N_("a person reviews it"), "exempt": N_("exempt from"),
    "surcharge": N_("surcharge"), "price": N_("price"), "mode": N_("mode"), "low_balance": N_("low balance"),
    "top_up": N_("top-up amount"), "credit_limit": N_("credit limit"), "period": N_("period"),
    "flag_ratio": N_("flag ratio"),
}
GROUPS = {
    "head": N_("The rulebook"), "ladders": N_("Ladders"), "tiers": N_("Tiers"), "rules": N_("Rules"),
    "prices": N_("Price list"), "account": N_("Account terms"), "other": N_("Other sections"),
}
# The rule kinds in words, for the choice of a rule's kind
KIND_WORDS = {
    "notice": N_("notice before a time"), "forbidden": N_("something not to do"),
    "channel": N_("requests through the agreed channels"), "quota": N_("at most so many per period"),
    "deadline": N_("something due by a time"), "incident": N_("incidents by severity"),
    "grace": N_("grace for a late payment"), "courtesy": N_("polite conversation"),
}
_ORDER = ("head", "ladders", "tiers", "rules", "prices", "account")


class EditError(FirmlyError):
    """A rulebook the editor cannot read (it is checked by the rulebook's own loading first)."""


@dataclass(frozen=True, slots=True)
class Field:
    path: YPath
    value: str  # as the form shows it
    kind: str  # text | long | list | flag | choice
    choices: tuple[str, ...] = ()
    written: bool = True  # False: offered empty, not in the YAML yet

    @property
    def name(self) -> str:
        return pointer(self.path)

    @property
    def key(self) -> str:
        """The field's own name: the last word of its path (a list item is named by its list)."""
        words = [str(p) for p in self.path if isinstance(p, str)]
        return words[-1] if words else ""

    @property
    def item(self) -> int | None:
        """Its place in a list (a ladder's step), counted from 1; None outside lists."""
        ints = [p for p in self.path if isinstance(p, int)]
        return ints[-1] + 1 if ints else None


@dataclass(frozen=True, slots=True)
class Section:
    group: str  # head, ladders, tiers, rules, prices, account, other
    name: str  # the entry's key (a rule's id, a ladder's name); the section's key for one-part sections
    title: str  # a rule's title, else ""
    fields: tuple[Field, ...]

    @property
    def anchor(self) -> str:
        """The section's id in the page: `head`, `prices`, `account`, `rules-late_change`, `other-karma`."""
        parts = (self.group,) if self.group == self.name else (self.group, self.name)
        return pointer(parts)[len(PREFIX):].replace("/", "-").replace("~", "-")


def pointer(path: YPath) -> str:
    return PREFIX + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def unpointer(name: str) -> YPath:
    out: list[Key] = []
    for part in name[len(PREFIX):].split("/"):
        word = part.replace("~1", "/").replace("~0", "~")
        out.append(int(word) if word.isdigit() else word)
    return tuple(out)


class _Text:
    """What ruamel writes to, without a file: the domain does no I/O."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, data: str | bytes) -> None:
        self.parts.append(data if isinstance(data, str) else data.decode("utf-8"))


def _yaml(indent: tuple[int, int, int]) -> YAML:
    y = YAML(typ="rt", pure=True)
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long line
    y.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return y


def _load(text: str) -> Any:
    try:
        load_with_lines(text)  # the rulebook's own limits first: its size, depth and aliases
    except YamlProblem as exc:
        raise EditError(f"line {exc.line}: {exc}") from None
    try:
        return _yaml(_INDENTS[0]).load(text)
    except YAMLError as exc:
        raise EditError(f"the rulebook cannot be read as YAML: {exc}") from None


def _dump(doc: Any, indent: tuple[int, int, int]) -> str:
    out = _Text()
    _yaml(indent).dump(doc, out)
    return "".join(out.parts)


@lru_cache(maxsize=64)
def _indent_of(text: str) -> tuple[int, int, int]:
    """The indentation the text is written with, among the usual ones."""
    for indent in _INDENTS:
        if _dump(_yaml(indent).load(text), indent) == text:
            return indent
    return _INDENTS[0]


def shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


def _scalar(value: object) -> bool:
    return not isinstance(value, dict | list)


def rule_kinds() -> list[str]:
    """The rule kinds a rule may have (engine/kinds)."""
    return list(_kinds())


def _kinds() -> dict[str, frozenset[str]]:
    # Imported here: the kinds import the engine, which imports the rulebook
    from firmly.domain.engine.kinds import KINDS  # noqa: PLC0415

    return {name: kind.fields for name, kind in KINDS.items()}


def sections(text: str) -> list[Section]:
    """The rulebook's entries as sections of fields, in the order of the form: the head, each ladder, tier
    and rule, the price list, the account terms, then any other section as written."""
    return list(_sections(text))


@lru_cache(maxsize=64)  # a stored version's text is read again on every page of its editor
def _sections(text: str) -> tuple[Section, ...]:
    doc = _load(text)
    if not isinstance(doc, dict):
        raise EditError("the rulebook is not a YAML mapping of fields")
    kinds = _kinds()
    out = [_head(doc, kinds)]
    for group in ("ladders", "tiers", "rules"):
        entries = doc.get(group)
        if not isinstance(entries, dict):
            continue
        for name, spec in entries.items():
            fields = _leaves(spec, (group, name))
            if group == "rules" and isinstance(spec, dict):
                fields.extend(_unwritten(spec, (group, name), kinds))
            title = str(spec.get("title") or "") if isinstance(spec, dict) else ""
            out.append(Section(group, str(name), title, tuple(_chosen(f, kinds) for f in fields)))
    if "prices" in doc:
        out.append(Section("prices", "prices", "", tuple(_leaves(doc["prices"], ("prices",)))))
    if isinstance(doc.get("account"), dict):
        terms = _leaves(doc["account"], ("account",))
        terms += [Field(("account", key), "", "text", written=False) for key in _ACCOUNT if key not in doc["account"]]
        out.append(Section("account", "account", "", tuple(terms)))
    for key, value in doc.items():
        if key not in (*_HEAD, *_ORDER):
            out.append(Section("other", str(key), "", tuple(_leaves(value, (str(key),)))))
    return tuple(out)


def _head(doc: dict[str, Any], kinds: dict[str, frozenset[str]]) -> Section:
    head: list[Field] = []
    for key in _HEAD:
        if key in doc:
            head.extend(_leaves(doc[key], (key,)))
        elif key in ("effective_from", "description"):
            head.append(Field((key,), "", "text", written=False))
    return Section("head", "head", "", tuple(_chosen(f, kinds) for f in head))


def _leaves(node: object, path: YPath) -> list[Field]:
    """The fields of a node: a value, a list of plain values (one field), or everything within it."""
    if isinstance(node, dict):
        found: list[Field] = []
        for key, value in node.items():
            found.extend(_leaves(value, (*path, str(key))))
        return found
    if isinstance(node, list):
        if all(_scalar(v) and "," not in shown(v) for v in node):
            return [Field(path, ", ".join(shown(v) for v in node), "list")]
        return [f for i, item in enumerate(node) for f in _leaves(item, (*path, i))]
    value = shown(node)
    if isinstance(node, bool):
        return [Field(path, value, "flag", ("true", "false"))]
    return [Field(path, value, "long" if len(value) > _LONG or "\n" in value else "text")]


def _unwritten(spec: dict[str, Any], path: YPath, kinds: dict[str, frozenset[str]]) -> list[Field]:
    """A rule's fields that are not written yet: every rule's, and its kind's own."""
    from firmly.domain.rulebook import RULE_FIELDS  # noqa: PLC0415 - the rulebook imports the kinds

    own = kinds.get(str(spec.get("kind")), frozenset())
    out: list[Field] = []
    for key in sorted(RULE_FIELDS - {"kind"}) + sorted(own - RULE_FIELDS):
        if key in spec or key == "weight":
            continue
        if key == "remind":
            out += [Field((*path, "remind", "before"), "", "text", written=False),
                    Field((*path, "remind", "at"), "", "list", written=False)]
            continue
        out.append(Field((*path, key), "", "list" if key in _LISTS else "text", written=False))
    return out


def _chosen(f: Field, kinds: dict[str, frozenset[str]]) -> Field:
    """A field whose values are few offers them to choose from."""
    if f.path == ("locale",):
        return Field(f.path, f.value, "choice", ("ru", "en"), f.written)
    if len(f.path) == 3 and f.path[0] == "rules" and f.path[2] == "kind":
        return Field(f.path, f.value, "choice", tuple(kinds), f.written)
    return f


def apply(text: str, edits: Mapping[str, str]) -> str:
    """The text with the edited fields' new values; fields not named, or unchanged, are left as written.
    `edits` maps form names (`y/...`) to values; names that are no field of this rulebook are ignored."""
    doc = _load(text)
    if not isinstance(doc, dict):
        raise EditError("the rulebook is not a YAML mapping of fields")
    fields = {f.name: f for s in _sections(text) for f in s.fields}
    removed: list[YPath] = []
    changed = False
    for name, raw in edits.items():
        f = fields.get(name)
        if f is None:
            continue
        value = raw.replace("\r\n", "\n").strip()
        if value == f.value:
            continue
        changed = True
        if not value:
            if f.written:
                removed.append(f.path)
            continue
        _put(doc, f, value)
    for path in sorted(removed, key=_sort_key, reverse=True):  # list items from the last, so places hold
        parent = _at(doc, path[:-1])
        del parent[path[-1]]
    return _dump(doc, _indent_of(text)) if changed else text


def _sort_key(path: YPath) -> tuple[tuple[int, str], ...]:
    return tuple((p, "") if isinstance(p, int) else (-1, p) for p in path)


def _at(doc: Any, path: YPath) -> Any:
    node = doc
    for part in path:
        node = node[part]
    return node


def _put(doc: Any, f: Field, value: str) -> None:
    node: Any = doc
    for part in f.path[:-1]:
        if isinstance(node, dict) and part not in node:
            node[part] = CommentedMap()
        node = node[part]
    last = f.path[-1]
    old = node.get(last) if isinstance(node, dict) else node[int(last)]
    if f.kind == "list":
        items = [_typed(v.strip(), None, f.key) for v in value.split(",") if v.strip()]
        if isinstance(old, CommentedSeq):
            del old[:]
            old.extend(items)
            return
        seq = CommentedSeq(items)
        seq.fa.set_flow_style()
        node[last] = seq
        return
    node[last] = _typed(value, old, f.key)


def _typed(value: str, old: object, key: str) -> object:
    """The value as YAML would read it, kept text where the old value was text (quoted as it was)."""
    if isinstance(old, ScalarString):
        return LiteralScalarString(value) if "\n" in value else type(old)(value)
    if isinstance(old, str):
        return LiteralScalarString(value) if "\n" in value else value
    if "\n" in value:
        return LiteralScalarString(value)
    try:
        read = YAML(typ="safe", pure=True).load(value)
    except YAMLError:
        return value
    if isinstance(read, dict | list) or read is None:
        return value
    if key in _MONEY and isinstance(read, int | float) and not isinstance(read, bool):
        return DoubleQuotedScalarString(value)  # money is written in quotes
    return read

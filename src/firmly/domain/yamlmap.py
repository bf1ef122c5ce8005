"""YAML to plain values, keeping the line of every key so that errors can name it.

The one place YAML becomes values (rulebooks, the workspace's `messages` setting). Its input comes from
people who may be careless or hostile, so it is bounded: a size limit, a nesting limit, few aliases that
never expand into more than a small budget of values (a "billion laughs" document is refused as soon as
its aliases pass the budget, before anything is built), no merge keys and no tags beyond the plain
scalar ones. Values are built from the parser's events, never by PyYAML's composer, which recurses and
expands aliases without limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

Path = tuple[str | int, ...]

MAX_BYTES = 1024 * 1024  # a rulebook of a thousand rules is a tenth of this
MAX_DEPTH = 32  # a rulebook nests five levels deep; a person never writes thirty
MAX_ALIASES = 100
MAX_ALIASED_VALUES = 10_000  # values all aliases together may stand for

_TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_COLLECTION_TAGS = frozenset({_TAG + "seq", _TAG + "map", "!"})
_MERGE = _TAG + "merge"
_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: a 1 MiB file in tens of ms


class YamlProblem(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(slots=True)
class _Open:
    """A mapping or sequence being built: its value, path, anchor and (for a mapping) the key waiting."""

    value: dict[Any, Any] | list[Any]
    path: Path
    anchor: str | None
    size: int = 1
    key: Any = None
    has_key: bool = False
    key_line: int = 0


@dataclass(slots=True)
class _Build:
    lines: dict[Path, int]
    anchors: dict[str, tuple[Any, int]] = field(default_factory=dict)  # anchor -> (value, values it holds)
    aliases: int = 0
    aliased: int = 0


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """The document's value and a map from each path ("rules", "no_show", "ladder") to its line."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YamlProblem(1, f"is {size:,} bytes; a document is at most {MAX_BYTES:,} bytes (1 MiB)")
    build = _Build({})
    try:
        return _build(yaml.parse(text, Loader=_Parser), build), build.lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = min(mark.line + 1, text.count("\n") + 1) if mark is not None else 1  # the end: the last line
        raise YamlProblem(line, f"is not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # e.g. a control character: the reader refuses it before any structure
        line = text.count("\n", 0, getattr(exc, "position", 0)) + 1
        raise YamlProblem(line, f"is not valid YAML: {exc}") from None


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 1


def _build(events: Any, b: _Build) -> Any:
    stack: list[_Open] = []
    root: Any = None
    documents = 0
    constructor = SafeConstructor()
    resolver = Resolver()
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise YamlProblem(_line(event), "holds a second document (---); write one document")
            continue
        if isinstance(event, yaml.StreamStartEvent | yaml.StreamEndEvent | yaml.DocumentEndEvent):
            continue
        parent = stack[-1] if stack else None
        path = _child_path(parent)
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            done = stack.pop()
            if done.anchor is not None:
                b.anchors[done.anchor] = (done.value, done.size)
            if stack:
                stack[-1].size += done.size
            continue
        if isinstance(event, yaml.AliasEvent):
            value, size = _alias(event, b, stack)
        elif isinstance(event, yaml.ScalarEvent):
            value, size = _scalar(event, constructor, resolver), 1
            if event.anchor is not None:
                b.anchors[event.anchor] = (value, 1)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if event.tag not in (None, *_COLLECTION_TAGS):
                raise YamlProblem(_line(event), f"uses the tag {event.tag}, which a rulebook does not know; "
                                                "remove it")
            if len(stack) >= MAX_DEPTH:
                raise YamlProblem(_line(event), f"nests deeper than {MAX_DEPTH} levels")
            value = {} if isinstance(event, yaml.MappingStartEvent) else []
            if parent is not None and parent.has_key is False and isinstance(parent.value, dict):
                raise YamlProblem(_line(event), "a key must be a plain word")
            _place(parent, value, path, _line(event), b)
            stack.append(_Open(value, path, event.anchor))
            if parent is None:
                root = value
            continue
        else:  # pragma: no cover - the parser yields no other event
            continue
        if parent is None:
            root = value
        elif isinstance(parent.value, dict) and not parent.has_key:
            _key(parent, value, event)
            continue
        else:
            parent.size += size
        _place(parent, value, path, _line(event), b)
    return root


def _child_path(parent: _Open | None) -> Path:
    if parent is None:
        return ()
    if isinstance(parent.value, dict):
        return (*parent.path, str(parent.key)) if parent.has_key else parent.path
    return (*parent.path, len(parent.value))


def _key(parent: _Open, key: Any, event: yaml.Event) -> None:
    line = _line(event)
    if isinstance(key, list | dict) or not isinstance(event, yaml.ScalarEvent):
        raise YamlProblem(line, "a key must be a plain word")
    assert isinstance(parent.value, dict)
    if key in parent.value:
        raise YamlProblem(line, f"{key!r} is written twice")
    parent.key, parent.has_key, parent.key_line = key, True, line


def _place(parent: _Open | None, value: Any, path: Path, line: int, b: _Build) -> None:
    if parent is None:
        b.lines.setdefault((), line)
        return
    if isinstance(parent.value, dict):
        b.lines[path] = parent.key_line
        parent.value[parent.key] = value
        parent.key, parent.has_key = None, False
    else:
        b.lines.setdefault(path, line)
        parent.value.append(value)


def _alias(event: yaml.AliasEvent, b: _Build, stack: list[_Open]) -> tuple[Any, int]:
    line = _line(event)
    name = event.anchor
    if any(o.anchor == name for o in stack):
        raise YamlProblem(line, f"the alias *{name} refers to the value that contains it")
    if name not in b.anchors:
        raise YamlProblem(line, f"the alias *{name} names no anchor (&{name}) written before it")
    value, size = b.anchors[name]
    b.aliases += 1
    b.aliased += size
    if b.aliases > MAX_ALIASES:
        raise YamlProblem(line, f"uses more than {MAX_ALIASES} aliases (*name)")
    if b.aliased > MAX_ALIASED_VALUES:
        raise YamlProblem(line, f"its aliases (*name) stand for more than {MAX_ALIASED_VALUES:,} values; "
                                "write the values out instead")
    return value, size  # shared, not copied: the values are read, never changed


def _scalar(event: yaml.ScalarEvent, constructor: SafeConstructor, resolver: Resolver) -> Any:
    line = _line(event)
    tag = event.tag
    if tag is None or tag == "!":
        tag = resolver.resolve(ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
    if tag == _MERGE:
        raise YamlProblem(line, "merge keys (<<) are not supported; write the fields out")
    if tag not in SCALAR_TAGS:
        raise YamlProblem(line, f"uses the tag {tag}, which a rulebook does not know; remove it")
    node = ScalarNode(tag, event.value, None, None, event.style)  # marks: the line is reported from the event
    try:
        return constructor.construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError, ArithmeticError, AttributeError, LookupError):
        # PyYAML's own conversions fail with a bare traceback on !!int 'abc', a bad !!timestamp, 2026-02-30
        kind = _KINDS.get(tag.removeprefix(_TAG), "value")
        raise YamlProblem(line, f"{event.value!r} is not a valid {kind}") from None


_KINDS = {"int": "whole number", "float": "number", "timestamp": "date or time", "bool": "true or false"}

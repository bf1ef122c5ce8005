"""YAML to plain values, keeping the line of every key so that errors can name it."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor

Path = tuple[str | int, ...]


class YamlProblem(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """The document's value and a map from each path ("rules", "no_show", "ladder") to its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(line, f"is not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # e.g. a control character: the reader refuses it before any structure
        line = text.count("\n", 0, getattr(exc, "position", 0)) + 1
        raise YamlProblem(line, f"is not valid YAML: {exc}") from None
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    constructor = SafeConstructor()
    return _convert(node, (), lines, constructor), lines


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int], constructor: SafeConstructor) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise YamlProblem(key_node.start_mark.line + 1, "a key must be a plain word")
            if key in out:
                raise YamlProblem(key_node.start_mark.line + 1, f"{key!r} is written twice")
            child = (*path, str(key))
            lines[child] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, child, lines, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, constructor) for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)

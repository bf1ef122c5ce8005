"""The rule editor: a loaded rulebook version in forms (every rule, ladder, tier, reminder, price and account
term), checked as `rulebook check` checks it with each problem at its field, the change shown as a YAML diff
with a what-if before it is saved as a new version. The YAML stays the source of truth (domain/yamledit)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from firmly import bootstrap
from firmly.domain import yamledit, yamlentries
from firmly.domain.errors import Busy, InvalidInput, Problem
from firmly.domain.ladders import STEP_ACTIONS
from firmly.domain.ports import StoredRulebook
from firmly.domain.rulebook import Rulebook, parse_rulebook
from firmly.domain.vocabulary import Words, plain
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, field, job_names, shown_when_stored, store_of, web
from firmly.doors.web.security import ACT, ADMIN, Refused, check_form, signed_in
from firmly.service import rulebooks, what_if_jobs

router = APIRouter()
WHERE = "rulebook.yaml"
MAX_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Shown:
    """A form field as the page shows it: its words, its value now, the problems found at it."""

    id: str
    name: str
    label: str
    value: str
    kind: str
    choices: tuple[str, ...]
    written: bool
    problems: list[Problem]


@dataclass(frozen=True, slots=True)
class Part:
    """A section of the form: its heading, its fields, and problems about it as a whole."""

    anchor: str
    group: str
    heading: str
    fields: list[Shown]
    problems: list[Problem]

    @property
    def unwritten(self) -> list[Shown]:
        return [f for f in self.fields if not f.written and not f.problems and not f.value]


def _versions(request: Request, book_id: str) -> list[StoredRulebook]:
    who = signed_in(request, ACT)
    return [v for v in answer(lambda: rulebooks.stored(store_of(request, who))) if v.id == book_id]


def _one(versions: list[StoredRulebook], version: str) -> StoredRulebook:
    for stored in versions:
        if stored.version == version:
            return stored
    raise Refused(404, i18n.gettext("No such rulebook version."))


@router.get("/rulebooks/{book_id}/{version}/edit")
def edit_page(request: Request, book_id: str, version: str) -> HTMLResponse:
    versions = _versions(request, book_id)
    stored = _one(versions, version)
    parts = _parts(stored.source, [])
    return web(request).page(request, "rule_editor.html", nav="rulebooks", stored=stored, versions=versions[::-1],
                             parts=parts, general=[], diff=[], job=None, waits=False, unchanged=False, valid=False,
                             invalid=False, base="", **_choices(stored.source))


@router.post("/rulebooks/{book_id}/{version}/edit")
async def edit(request: Request, book_id: str, version: str) -> Response:
    """`preview` checks the edits, shows the diff and starts a what-if (admins and operators); `save` also
    loads the changed rulebook as a new version (admins)."""
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    action = field(form, "action") or "preview"
    if action == "save":
        signed_in(request, ADMIN)
    versions = await run_in_threadpool(_versions, request, book_id)
    stored = _one(versions, version)
    base = form.get("base")
    base = base.replace("\r\n", "\n") if isinstance(base, str) and base else stored.source
    if len(base.encode()) > MAX_BYTES:
        raise Refused(413, i18n.gettext("A rulebook is at most 1 MiB."))
    edits = {k: v for k, v in form.items() if k.startswith(yamledit.PREFIX) and isinstance(v, str)}
    additions = {k: v for k, v in form.items() if k.startswith("new/") and isinstance(v, str)}
    try:
        text, refused = await run_in_threadpool(_edited, base, edits, additions)
    except yamledit.EditError as exc:
        raise Refused(400, str(exc)) from None
    unchanged = text == stored.source
    book, problems = (None, []) if unchanged else await run_in_threadpool(_check, text, versions)
    if refused:
        book, problems = None, [*refused, *problems]
    job, waits = None, False
    if book is not None and action == "save":
        shown = await shown_when_stored(request, who, book)
        if not isinstance(shown, list):
            return shown
        problems = shown
    elif book is not None:
        store = store_of(request, who)
        try:
            job = answer(lambda: what_if_jobs.start(partial(bootstrap.store, web(request).url, store.workspace),
                                                    store.workspace, text, WHERE))
        except Busy:
            waits = True  # another what-if is running in this workspace: the diff is shown all the same
    parts = _parts(text, problems)
    placed = {id(p) for part in parts for p in part.problems} | {
        id(p) for part in parts for f in part.fields for p in f.problems}
    general = [p for p in problems if id(p) not in placed]
    return web(request).page(request, "rule_editor.html", http_status=422 if problems else 200, nav="rulebooks",
                             stored=stored, versions=versions[::-1], parts=parts, general=general,
                             diff=[] if unchanged else yamlentries.diff(stored.source, text), job=job,
                             names=await run_in_threadpool(job_names, request, who, job), waits=waits,
                             unchanged=unchanged, valid=book is not None and not problems, invalid=bool(problems),
                             base="" if unchanged else text, **_choices(text))


# What the form can add: the form's names for the entry's name and its values, per section
ADDITIONS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("rules", "new/rule/id", {"title": "new/rule/title", "kind": "new/rule/kind"}),
    ("steps", "new/step/ladder", {"action": "new/step/action", "value": "new/step/value"}),
    ("prices", "new/price/code", {"title": "new/price/title", "price": "new/price/price"}),
    ("tiers", "new/tier/name", {}),
)


def _edited(base: str, edits: dict[str, str], additions: dict[str, str]) -> tuple[str, list[Problem]]:
    """The text with the form's edits and its new entries; an entry whose name is taken is refused."""
    text = yamledit.apply(base, edits)
    refused: list[Problem] = []
    for group, name_field, value_fields in ADDITIONS:
        name = additions.get(name_field, "").strip()
        values = {k: additions.get(f, "") for k, f in value_fields.items()}
        if not name or (group == "steps" and not values["action"].strip()):
            continue
        if group != "steps" and name in yamlentries.names(text, group):
            refused.append(Problem.of(WHERE, None, name_field.replace("/", "."),
                                      "{name} is taken already in this rulebook; choose another name", name=name))
            continue
        text = yamlentries.add(text, group, name, values)
    return text, refused


def _choices(text: str) -> dict[str, Any]:
    """What the form's choices offer: the rule kinds and the ladders' step actions in words, the ladders."""
    words = Words(i18n.current(), i18n.translations(i18n.current()))
    return {"kinds": [(k, i18n.gettext(yamledit.KIND_WORDS.get(k, k))) for k in yamledit.rule_kinds()],
            "actions": [(a, words.action(a)) for a in STEP_ACTIONS],
            "ladders": [(n, plain(n)) for n in yamlentries.names(text, "ladders")]}


def _check(text: str, versions: list[StoredRulebook]) -> tuple[Rulebook | None, list[Problem]]:
    """The changed rulebook as `rulebook check` reads it, and a version name not taken yet."""
    try:
        book = parse_rulebook(text, WHERE)
    except InvalidInput as exc:
        return None, exc.problems
    if any(v.version == book.version for v in versions):
        return None, [Problem.of(WHERE, None, "version", "version {version} is loaded already; a changed rulebook is "
                                                         "saved as a new version: give it a new name",
                                 version=book.version)]
    return book, []


def _parts(source: str, problems: list[Problem]) -> list[Part]:
    """The form's sections in the reader's words, with what was typed and the problems at their fields."""
    words = Words(i18n.current(), i18n.translations(i18n.current()))
    try:
        sections = yamledit.sections(source)
    except yamledit.EditError as exc:
        raise Refused(400, str(exc)) from None
    titles = {s.name: s.title for s in sections if s.group == "rules" and s.title}
    dotted = {_dotted(f.path): f.name for s in sections for f in s.fields}
    at_field: dict[str, list[Problem]] = {}
    at_part: dict[str, list[Problem]] = {}
    for p in problems:
        name = _field_of(p.field, dotted)
        if name is not None:
            at_field.setdefault(name, []).append(p)
            continue
        for s in sections:
            prefix = _dotted((s.group, s.name)) if s.group in ("ladders", "tiers", "rules") else s.name
            if p.field == prefix or p.field.startswith(prefix + "."):
                at_part.setdefault(s.anchor, []).append(p)
                break
    out: list[Part] = []
    n = 0
    for s in sections:
        fields: list[Shown] = []
        for f in s.fields:
            n += 1
            fields.append(Shown(f"f{n}", f.name, _label(f, s, words, titles), f.value, f.kind, f.choices,
                                f.written, at_field.get(f.name, [])))
        out.append(Part(s.anchor, s.group, _heading(s, words), fields, at_part.get(s.anchor, [])))
    return out


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def _field_of(problem_field: str, dotted: dict[str, str]) -> str | None:
    """The form field a problem is about: its own, or the nearest one holding it (a list's item)."""
    parts = problem_field.split(".")
    while parts:
        found = dotted.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return None


def _heading(s: yamledit.Section, words: Words) -> str:
    _ = i18n.gettext
    if s.group == "head":
        return _(yamledit.GROUPS[s.group])
    if s.group == "rules":
        return _("Rule: %(title)s") % {"title": s.title or plain(s.name)}
    if s.group == "ladders":
        return _("Ladder: %(name)s") % {"name": plain(s.name)}
    if s.group == "tiers":
        return _("Tier: %(name)s") % {"name": words.tier(s.name)}
    if s.group in ("prices", "account"):
        return _(yamledit.GROUPS[s.group])
    return plain(s.name).capitalize()


def _label(f: yamledit.Field, s: yamledit.Section, words: Words, titles: dict[str, str]) -> str:
    _ = i18n.gettext
    skip = 0 if s.group == "head" else 2 if s.group in ("ladders", "tiers", "rules") else 1
    said: list[str] = []
    path = f.path[skip:]
    for i, part in enumerate(path):
        if isinstance(part, int):
            steps = i > 0 and path[i - 1] == "steps"
            said.append(_("step %(n)s") % {"n": part + 1} if steps else _("item %(n)s") % {"n": part + 1})
            continue
        if part == "steps" and i + 1 < len(path) and isinstance(path[i + 1], int):
            continue  # "step 2", not "steps · step 2"
        if part in titles and s.group == "tiers":
            said.append(titles[part])
        elif part in yamledit.LABELS:
            said.append(_(yamledit.LABELS[part]))
        else:
            said.append(plain(part))
    if s.group == "other":
        said.insert(0, plain(s.name))
    text = " · ".join(w for w in said if w) or plain(s.name)
    return text[:1].upper() + text[1:]

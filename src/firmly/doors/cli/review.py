"""`firmly review list | log | approve | soften | dismiss | reopen | reinstate`: the queue of proposals that
wait for a person, and the audit log of what people did with them."""

from __future__ import annotations

from typing import Annotated

import typer

from firmly import bootstrap
from firmly.domain.vocabulary import N_
from firmly.doors.cli.common import (
    Db,
    Json,
    Lang,
    PlainTable,
    Reason,
    Workspace,
    _author,
    _lang,
    _print_decisions,
    _print_json,
    _reader,
    friendly,
    out,
    review_app,
)
from firmly.service import (
    explanations,
    queries,
    review,
    wording,
)

# an act on the queue by the status it leaves the decision in, which the vocabulary names
ACTED = {"approve": "approved", "soften": "softened", "dismiss": "dismissed", "reopen": "proposed"}


@review_app.command("list")
@friendly
def review_list(lang: Lang = None, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Proposals waiting for a person."""
    store = bootstrap.store(db, ws)
    if as_json:
        _print_json([queries.public(r) for r in review.pending(store)])
    else:
        _print_decisions(explanations.for_reader(store, review.pending(store), _lang(lang)), _reader(store, lang))


@review_app.command("log")
@friendly
def review_log(counterparty: Annotated[str | None, typer.Option(help="only this counterparty")] = None,
               lang: Lang = None, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """The audit log: every act on the review queue with its author and reason."""
    store = bootstrap.store(db, ws)
    rows = review.log(store, counterparty)
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    words = explanations.workspace_words(store, reader.lang)
    acted_header, acted = reader.column(reader.say("acted at"), [r["acted_at"] for r in rows])
    at, when = reader.column(reader.say("engine time"), [r["at"] for r in rows])
    table = PlainTable(acted_header, at, *(reader.say(h) for h in (N_("counterparty"), N_("decision"), N_("act"),
                                                                     N_("author"), N_("reason"))))
    for r, person, moment in zip(rows, acted, when, strict=True):
        done = words.status(ACTED.get(r["act"], r["act"]))
        act = reader.say("%(act)s to step %(step)s", act=done, step=r["step"]) if r["step"] else done
        table.add_row(person, moment, r["counterparty"], r["decision"], act, r["author"], r["reason"])
    out.print(table)


def _act(decision: str, act: str, reason: str, db: str | None, ws: str | None, step: int | None,
         as_json: bool) -> None:
    store = bootstrap.store(db, ws)
    row = review.act(store, decision, act, reason, _author(), step)
    if as_json:
        _print_json(queries.public(row))
        return
    reader = _reader(store)
    if act == "reinstate":
        said = reader.say("%(decision)s: the relationship with %(who)s is reinstated (%(id)s)", decision=decision,
                          who=row["counterparty"], id=row["id"])
    else:
        words = wording.words(reader.lang)
        said = reader.say("%(decision)s: %(action)s is now %(status)s", decision=decision,
                          action=words.action(row["action"]), status=words.status(row["status"]))
    out.print(said, markup=False, highlight=False)


@review_app.command("approve")
@friendly
def review_approve(decision: str, reason: Reason, db: Db = None, ws: Workspace = None, as_json: Json = False
                   ) -> None:
    """Approve a proposed step; it applies from the engine clock's current time."""
    _act(decision, "approve", reason, db, ws, None, as_json)


@review_app.command("soften")
@friendly
def review_soften(decision: str, reason: Reason,
                  step: Annotated[int, typer.Option("--step", help="the lower ladder step to apply (1 = first)")],
                  db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Apply a lower step of the ladder instead of the proposed one."""
    _act(decision, "soften", reason, db, ws, step, as_json)


@review_app.command("dismiss")
@friendly
def review_dismiss(decision: str, reason: Reason, db: Db = None, ws: Workspace = None, as_json: Json = False
                   ) -> None:
    """Do not apply a proposed step."""
    _act(decision, "dismiss", reason, db, ws, None, as_json)


@review_app.command("reopen")
@friendly
def review_reopen(decision: str, reason: Reason, db: Db = None, ws: Workspace = None, as_json: Json = False
                  ) -> None:
    """Put a dismissed proposal back in the queue, to be decided again."""
    _act(decision, "reopen", reason, db, ws, None, as_json)


@review_app.command("reinstate")
@friendly
def review_reinstate(decision: str, reason: Reason, db: Db = None, ws: Workspace = None, as_json: Json = False
                     ) -> None:
    """Reinstate the relationship that the termination DECISION ended."""
    _act(decision, "reinstate", reason, db, ws, None, as_json)

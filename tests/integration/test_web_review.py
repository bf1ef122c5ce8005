"""Acting on the review queue through the page (in process), the API and the command line, on SQLite and
PostgreSQL over the clinic example: names and steps in words, a confirmation before a suspension or a
termination, soften by name, dismiss, reopen, bulk, reinstate, and each act with when the person acted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.doors.api import create_app
from firmly.service import demo, ingest, queries, review, tokens, users
from tests.conftest import forget_workspace
from tests.integration.test_cli import firmly
from tests.integration.test_web import PASSWORD, Site, csrf

SIXTH = [  # Tom's sixth late cancellation, after the suspension: the last step, termination, is proposed
    {"id": "t6-book", "type": "appointment.booked", "counterparty": "tom", "occurred_at": "2026-06-05T09:00:00+01:00",
     "data": {"appointment": "t6", "starts_at": "2026-06-08T10:00:00+01:00", "service": "check-up", "price": "60.00"}},
    {"id": "t6-cancel", "type": "appointment.cancelled", "counterparty": "tom",
     "occurred_at": "2026-06-08T06:00:00+01:00", "data": {"appointment": "t6"}},
]


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    forget_workspace(database_url, "review-it")
    store = bootstrap.store(database_url, "review-it")
    demo.demo(store, "clinic-en", 0)
    users.create(store, "review-operator@example.org", "operator", PASSWORD, 0)
    yield Site(database_url, "review-it")


def signed_in(site: Site) -> TestClient:
    c = site.client()
    site.login(c, "review-operator@example.org")
    return c


def post(c: TestClient, path: str, **data: object) -> tuple[int, str]:
    token = csrf(c.get("/review").text)
    answer = c.post(path, data={"csrf": token, **data}, follow_redirects=True)
    return answer.status_code, answer.text


def tom_proposal(site: Site, action: str = "suspend") -> str:
    found = (r["id"] for r in review.pending(site.store) if r["counterparty"] == "tom" and r["action"] == action)
    return str(next(found))


def test_the_queue_reads_as_words_and_asks_before_a_suspension(site: Site) -> None:
    suspend = tom_proposal(site)
    with signed_in(site) as c:
        page = c.get("/review").text
        assert "Tom Baker" in page and "Cancel at least 12 hours before your visit" in page
        assert "service suspended for 30 days" in page
        assert '<option value="4">bookings need prepayment for 60 days</option>' in page
        assert 'href="/counterparties/tom#ev-t5-cancel"' in page
        assert 'id="ev-t5-cancel"' in c.get("/counterparties/tom").text, "the evidence link lands on the event"

        code, asked = post(c, f"/review/{suspend}", act="approve", reason="Five late cancellations.")
        assert code == 200 and "Are you sure?" in asked
        assert re.search(r"Tom Baker: service suspended for 30 days, until", asked)
        assert review.pending(site.store)[0]["id"] == suspend, "nothing changes before the confirmation"

        code, done = post(c, f"/review/{suspend}", act="approve", reason="Five late cancellations.", confirmed="yes")
        assert code == 200 and "1 proposal approved" in done
        assert queries.decisions(site.store, "tom", status="approved")[0]["id"] == suspend
        (act,) = review.log(site.store)
        assert act["acted_at"] is not None and act["acted_at"] != act["at"], "when the person acted, beside the engine"


def test_soften_by_name_leaves_one_prepayment(site: Site) -> None:
    suspend = tom_proposal(site)
    with signed_in(site) as c:
        code, page = post(c, f"/review/{suspend}", act="soften", step="4", reason="First time this year.")
        assert code == 200 and "Softened" in page
        assert "softened to: bookings need prepayment for 60 days" in page
        assert "→" not in page
    restrictions = queries.counterparty(site.store, "tom")["restrictions"]
    assert [r["type"] for r in restrictions] == ["require_prepayment"], "the softened step replaces, not adds"


def test_dismiss_then_reopen_then_bulk_approve(site: Site) -> None:
    suspend = tom_proposal(site)
    with signed_in(site) as c:
        code, page = post(c, f"/review/{suspend}", act="dismiss", reason="Their bus broke down.")
        assert code == 200 and f'id="x-{suspend}"' in page, "the dismissed proposal is offered for reopening"
        code, page = post(c, f"/review/{suspend}", act="reopen", reason="It happened again after all.")
        assert code == 200 and f'id="d-{suspend}"' in page
        assert review.pending(site.store)[0]["id"] == suspend

        code, asked = post(c, "/review/bulk", act="approve", reason="Agreed at the Monday meeting.",
                           decision=[suspend])
        assert code == 200 and "Are you sure?" in asked
        code, done = post(c, "/review/bulk", act="approve", reason="Agreed at the Monday meeting.",
                          decision=[suspend], confirmed="yes")
        assert "1 proposal approved" in done
    acts = [(a["act"], a["reason"]) for a in review.log(site.store)]
    assert acts == [("dismiss", "Their bus broke down."), ("reopen", "It happened again after all."),
                    ("approve", "Agreed at the Monday meeting.")]


def test_reinstating_a_terminated_relationship(site: Site) -> None:
    review.act(site.store, tom_proposal(site), "approve", "Five late cancellations.", "review-operator@example.org")
    ingest.ingest(site.store, ingest.parsed("sixth", SIXTH))
    terminate = tom_proposal(site, "terminate")
    with signed_in(site) as c:
        code, asked = post(c, f"/review/{terminate}", act="approve", reason="Six in a row.")
        assert "The relationship with Tom Baker ends, until a person reinstates it." in asked
        post(c, f"/review/{terminate}", act="approve", reason="Six in a row.", confirmed="yes")
        assert queries.counterparty(site.store, "tom")["status"] == "terminated"
        code, page = post(c, f"/review/{terminate}", act="reinstate", reason="Paid and apologised.")
        assert code == 200 and "Reinstated" in page
    assert queries.counterparty(site.store, "tom")["status"] != "terminated"
    (back,) = queries.decisions(site.store, "tom", status="applied")[-1:]
    assert back["action"] == "reinstate" and "Paid and apologised" in back["explanation"]


def test_reopen_and_reinstate_through_the_api(site: Site) -> None:
    suspend = tom_proposal(site)
    issued = tokens.create(site.store, "operator", "desk", 0)
    with TestClient(create_app(site.url), headers={"Authorization": f"Bearer {issued.token}"}) as c:
        refused = c.post(f"/v1/reviews/{suspend}/reopen", json={"reason": "not dismissed"})
        assert refused.status_code == 409 and "only a dismissed proposal" in refused.text
        assert c.post(f"/v1/reviews/{suspend}/dismiss", json={"reason": "bus"}).json()["status"] == "dismissed"
        assert c.post(f"/v1/reviews/{suspend}/reopen", json={"reason": "again"}).json()["status"] == "proposed"
        wrong = c.post(f"/v1/reviews/{suspend}/reinstate", json={"reason": "x"})
        assert wrong.status_code == 409 and "did not end the relationship" in wrong.text


def test_the_command_line_reopens_and_logs_when_people_acted(tmp_path: Path) -> None:
    where = tmp_path
    example = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"
    firmly(where, "init")
    firmly(where, "rulebook", "load", str(example / "rulebook.yaml"))
    firmly(where, "ingest", str(example / "events.jsonl"))
    (proposal,) = json.loads(firmly(where, "review", "list", "--json").stdout)
    assert firmly(where, "review", "dismiss", proposal["id"], "--reason", "bus").returncode == 0
    reopened = firmly(where, "review", "reopen", proposal["id"], "--reason", "again", "--json")
    assert reopened.returncode == 0, reopened.stderr
    assert json.loads(reopened.stdout)["status"] == "proposed"
    log = json.loads(firmly(where, "review", "log", "--json").stdout)
    assert [a["act"] for a in log] == ["dismiss", "reopen"] and all(a["acted_at"] for a in log)
    wrong = firmly(where, "review", "reinstate", proposal["id"], "--reason", "x")
    assert wrong.returncode == 1 and "did not end the relationship" in wrong.stderr + wrong.stdout

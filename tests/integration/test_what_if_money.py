"""What-if counts money and people: a fee raised from 25.00 to 40.00 changes no count of decisions, but every
fee's amount; the difference shows per counterparty and in totals per currency, only over the counterparties
the changed rulebook governs, with the sentence of each changed decision."""

from __future__ import annotations

import re
import time
from pathlib import Path

from firmly import bootstrap
from firmly.domain.rulebook import parse_rulebook
from firmly.service import demo, simulate, users, what_if_jobs

CLINIC = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en" / "rulebook.yaml"


def test_a_raised_fee_shows_as_money(tmp_path: Path) -> None:
    store = bootstrap.store(f"sqlite:///{tmp_path / 'w.db'}", "w")
    demo.demo(store, "clinic-en", 0)
    source = CLINIC.read_text(encoding="utf-8")
    assert 'fee: "25.00"' in source
    raised = parse_rulebook(source.replace('fee: "25.00"', 'fee: "40.00"'), "rulebook.yaml")

    result = simulate.simulate(store, raised)
    assert result["totals"]["fee"]["current"] == result["totals"]["fee"]["simulated"] > 0, "as many fees as before"
    fees = result["money"]["GBP"]["fee"]
    n = result["totals"]["fee"]["current"]
    assert (fees["current"], fees["simulated"]) == (str(25 * n) + ".00", str(40 * n) + ".00")
    assert result["counterparties"], "the people who would pay more are listed"
    tom = next(c for c in result["counterparties"] if c["key"] == "tom")
    (fee,) = [ch for ch in tom["changes"] if ch["action"] == "fee"]
    assert fee["amounts"] == {"GBP": {"current": "25.00", "simulated": "40.00"}}
    (sentence,) = [d for d in tom["decisions"] if d["action"] == "fee"]
    assert sentence["change"] == "amount" and "£40.00" in sentence["explanation"]
    assert result["governed"] >= len(result["counterparties"])


def test_an_unchanged_rulebook_changes_nothing(tmp_path: Path) -> None:
    store = bootstrap.store(f"sqlite:///{tmp_path / 'w.db'}", "w")
    demo.demo(store, "clinic-en", 0)
    result = simulate.simulate(store, parse_rulebook(CLINIC.read_text(encoding="utf-8"), "rulebook.yaml"))
    assert result["counterparties"] == []
    assert all(c["current"] == c["simulated"] for c in result["totals"].values())


def test_only_the_counterparties_the_rulebook_governs_are_counted(tmp_path: Path) -> None:
    store = bootstrap.store(f"sqlite:///{tmp_path / 'w.db'}", "w")
    demo.demo(store, "clinic-en", 0)
    demo.demo(store, "network-en", 0)  # a second rulebook, for partners, with decisions of its own
    network = CLINIC.parent.parent / "network-en" / "rulebook.yaml"
    partners = simulate.simulate(store, parse_rulebook(network.read_text(encoding="utf-8"), "rulebook.yaml"))
    clients = simulate.simulate(store, parse_rulebook(CLINIC.read_text(encoding="utf-8"), "rulebook.yaml"))
    assert 0 < partners["governed"] < clients["governed"]
    assert clients["totals"]["reminder"]["current"] > 0
    assert "reminder" not in partners["totals"], "the clients' reminders are not the partner rulebook's business"
    assert "GBP" in clients["money"] and partners["money"] == {}


def test_the_page_shows_the_money_difference(tmp_path: Path) -> None:
    from tests.integration.test_web import PASSWORD, Site, csrf  # noqa: PLC0415 - the web harness, for this test

    url = f"sqlite:///{tmp_path / 'w.db'}"
    store = bootstrap.store(url, "w")
    demo.demo(store, "clinic-en", 0)
    users.create(store, "op@example.org", "operator", PASSWORD, 0)
    site = Site(url, "w")
    with site.client() as c:
        site.login(c, "op@example.org")
        source = CLINIC.read_text(encoding="utf-8").replace('fee: "25.00"', 'fee: "40.00"')
        token = csrf(c.get("/rulebooks/what-if").text)
        started = c.post("/rulebooks/what-if", data={"csrf": token, "source": source}).text
        found = re.search(r'hx-get="/rulebooks/what-if/jobs/([^"]+)"', started)
        page = started  # a short history may be replayed before the page is written
        for _ in range(200 if found else 0):  # the job runs in its own thread; the page asks as htmx would
            assert found is not None
            page = c.get(f"/rulebooks/what-if/jobs/{found.group(1)}", headers={"HX-Request": "true"}).text
            if 'id="job"' not in page:
                break
            time.sleep(0.05)
        elsewhere = c.get("/rulebooks/what-if/jobs/unknown", headers={"HX-Request": "true"})
        assert elsewhere.status_code == 200 and "tries=1" in elsewhere.text, "maybe another process: ask again"
        assert c.get("/rulebooks/what-if/jobs/unknown?tries=30", headers={"HX-Request": "true"}).status_code == 404
        assert c.get("/rulebooks/what-if/jobs/unknown").status_code == 404
    assert "In money, GBP" in page
    assert "£25.00" in page and "£40.00" in page and "+£15.00" in page
    assert "1 counterparty would be treated differently" in page
    assert "£40.00" in page, "the sentence of the changed decision (the amounts above are as the locale writes them)"


def test_the_replay_reports_its_progress(tmp_path: Path) -> None:
    store = bootstrap.store(f"sqlite:///{tmp_path / 'w.db'}", "w")
    demo.demo(store, "clinic-en", 0)
    reports: list[tuple[str, int, int]] = []
    simulate.simulate(store, parse_rulebook(CLINIC.read_text(encoding="utf-8"), "rulebook.yaml"),
                      progress=lambda phase, done, total: reports.append((phase, done, total)))
    phases = [phase for phase, _, _ in reports]
    assert sorted(set(phases), key=phases.index) == ["reading", "replaying", "comparing"], "each phase, in order"
    _, done, total = [r for r in reports if r[0] == "replaying"][-1]
    assert done == total > 0, "every event of the history replayed"


def test_the_job_page_names_each_phase_in_words(tmp_path: Path) -> None:
    from tests.integration.test_web import PASSWORD, Site  # noqa: PLC0415 - the web harness, for this test

    url = f"sqlite:///{tmp_path / 'w.db'}"
    store = bootstrap.store(url, "w")
    demo.demo(store, "clinic-en", 0)
    users.create(store, "op@example.org", "operator", PASSWORD, 0)
    job = what_if_jobs.Job("phases", "w", "smile@2", time.monotonic())  # a job still running, its progress set
    what_if_jobs._jobs[job.id] = job
    site = Site(url, "w")
    try:
        with site.client() as c:
            site.login(c, "op@example.org")
            seen: dict[tuple[str, int, int], str] = {}
            for phase, done, total in [("starting", 0, 0), ("reading", 0, 0), ("reading", 0, 12000),
                                       ("replaying", 3000, 12000), ("comparing", 0, 0), ("comparing", 1000, 2500)]:
                job.progress[0], job.progress[1], job.progress[2] = done, total, what_if_jobs.PHASES.index(phase)
                page = c.get(f"/rulebooks/what-if/jobs/{job.id}", headers={"HX-Request": "true"}).text
                seen[(phase, done, total)] = re.sub(r"\s+", " ", page.split('id="phase">')[1].split("<a")[0]).strip()
    finally:
        del what_if_jobs._jobs[job.id]
    assert seen == {("starting", 0, 0): "Starting…", ("reading", 0, 0): "Reading the history…",
                    ("reading", 0, 12000): "Reading the history: 12,000 events",
                    ("replaying", 3000, 12000): "Replaying: 3,000 of 12,000 events",
                    ("comparing", 0, 0): "Comparing the outcomes…",
                    ("comparing", 1000, 2500): "Comparing the outcomes: 1,000 of 2,500 counterparties"}

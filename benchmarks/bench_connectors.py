"""What a connector adds per event: signed Cal.com deliveries against the same events posted to /v1/events.

    .venv/bin/python benchmarks/bench_connectors.py [--deliveries 10000] [--port 8765] [--json-out FILE]

A fresh SQLite workspace (`firmly init`, the clinic rulebook, an ingest token, a Cal.com connector made with
`firmly connector add calcom --json`), `firmly serve` in a process of its own with the rate limit off, and one
keep-alive `http.client` connection from this process, closed loop. Requests alternate so that both sides see
the same server, database size and machine noise: a BOOKING_CREATED delivery signed with
X-Cal-Signature-256 (a new booking of a new client each time, two events: the client and the booking) to
/v1/hooks/{id}, then the same two events (other ids) as one list to POST /v1/events. Every answer is checked
(200, two stored). Reported: median and p99 latency of each, and the connector's extra cost per event
((hook - events) / 2) at the median and p99.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIRMLY = ROOT / ".venv" / "bin" / "firmly"
CLINIC = ROOT / "src" / "firmly" / "examples" / "clinic-en" / "rulebook.yaml"


def _run(*args: str, env: dict[str, str]) -> str:
    return subprocess.run([str(FIRMLY), *args], env=env, check=True, capture_output=True, text=True).stdout


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def delivery(n: int, secret: str) -> tuple[bytes, dict[str, str]]:
    start = f"2026-11-{10 + n % 18:02d}T{8 + n % 9:02d}:00:00Z"
    body = json.dumps({"triggerEvent": "BOOKING_CREATED", "createdAt": "2026-11-01T09:00:00.000Z", "payload": {
        "type": "checkup", "title": "Check-up", "uid": f"uid-{n}", "bookingId": n, "startTime": start,
        "endTime": start, "status": "ACCEPTED",
        "organizer": {"name": "Dr Hale", "email": "hale@clinic.example", "timeZone": "Europe/London"},
        "attendees": [{"name": f"Client {n}", "email": f"client{n}@example.org", "timeZone": "Europe/London",
                       "language": {"locale": "en"}}]}}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Cal-Signature-256": signature}


def events(n: int) -> bytes:
    """The two events the delivery of booking n gives, for another client, posted directly."""
    start = f"2026-11-{10 + n % 18:02d}T{8 + n % 9:02d}:00:00+00:00"
    key = f"direct{n}@example.org"
    return json.dumps([
        {"id": f"direct:{n}:client", "type": "counterparty.upserted", "counterparty": key,
         "occurred_at": "2026-11-01T09:00:00+00:00",
         "data": {"kind": "client", "name": f"Client {n}", "email": key, "locale": "en",
                  "timezone": "Europe/London", "time_from": "createdAt"}},
        {"id": f"direct:{n}:booked", "type": "appointment.booked", "counterparty": key,
         "occurred_at": "2026-11-01T09:00:00+00:00",
         "data": {"appointment": f"direct:{n}", "starts_at": start, "service": "checkup", "time_from": "createdAt"}},
    ]).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="firmly-bench-connectors-"))
    env = {**os.environ, "FIRMLY_DATABASE_URL": f"sqlite:///{work / 'firmly.db'}", "FIRMLY_WORKSPACE": "bench",
           "FIRMLY_RATE_LIMIT": "0"}
    server = None
    try:
        _run("init", "--locale", "en", "--timezone", "Europe/London", env=env)
        _run("rulebook", "load", str(CLINIC), env=env)
        token = json.loads(_run("token", "create", "--role", "ingest", "--json", env=env))["token"]
        secret = "bench-secret"
        made = json.loads(_run("connector", "add", "calcom", "--secret", secret, "--json", env=env))
        server = subprocess.Popen([str(FIRMLY), "serve", "--port", str(args.port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        for _ in range(100):
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                conn.close()
                time.sleep(0.1)
        direct_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        hook_ms: list[float] = []
        direct_ms: list[float] = []

        def send(path: str, body: bytes, headers: dict[str, str], into: list[float]) -> None:
            began = time.perf_counter()
            conn.request("POST", path, body, headers)
            answer = conn.getresponse()
            payload: dict[str, Any] = json.loads(answer.read())
            into.append((time.perf_counter() - began) * 1000)
            assert answer.status == 200 and payload["stored"] == 2, (answer.status, payload)

        began = time.perf_counter()
        for n in range(args.deliveries):
            body, headers = delivery(n, secret)
            send(made["path"], body, headers, hook_ms)
            send("/v1/events", events(n), direct_headers, direct_ms)
        took = time.perf_counter() - began
        result = {"deliveries": args.deliveries, "seconds": round(took, 1),
                  "hook_p50_ms": round(statistics.median(hook_ms), 3), "hook_p99_ms": round(_p(hook_ms, 0.99), 3),
                  "events_p50_ms": round(statistics.median(direct_ms), 3),
                  "events_p99_ms": round(_p(direct_ms, 0.99), 3)}
        result["extra_per_event_p50_ms"] = round((result["hook_p50_ms"] - result["events_p50_ms"]) / 2, 3)
        result["extra_per_event_p99_ms"] = round((result["hook_p99_ms"] - result["events_p99_ms"]) / 2, 3)
        print(json.dumps(result, indent=2))
        if args.json_out:
            args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

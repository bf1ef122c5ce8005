"""One registry of settings: each has a name, a default, a help text and its FIRMLY_* twin."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return "FIRMLY_" + self.name.upper()

    def value(self, override: str | None = None) -> str:
        if override:
            return override
        return os.environ.get(self.env) or self.default


DATABASE_URL = Setting("database_url", "sqlite:///firmly.db",
                       "where firmly keeps its data: sqlite:///PATH (embedded) or postgresql://USER@HOST/DB")
WORKSPACE = Setting("workspace", "default", "the workspace every command works in; workspaces never see "
                    "each other's data")
AUTHOR = Setting("author", "", "who acts on the review queue (default: the login name)")

RATE_LIMIT = Setting("rate_limit", "2000", "API requests per second each token may make (bursts up to the same "
                     "number); 0 turns the limit off")
HOST = Setting("host", "127.0.0.1", "the address `firmly serve` listens on")
PORT = Setting("port", "8000", "the port `firmly serve` listens on")

LEXICONS = Setting("lexicons", "", "extra tone lexicon files (YAML, the format of firmly/lexicons/*.yaml), "
                   "separated by the path separator; they add to the shipped ones")

SMTP_URL = Setting("smtp_url", "", "the SMTP server the worker sends email through: "
                   "smtp://user:password@host:587?starttls=true, or smtps://… for TLS from the start; empty: no email")
MAIL_FROM = Setting("mail_from", "firmly@localhost", "the sender address of every email (the name comes from "
                    "the workspace's sender_name)")
WORKER_INTERVAL = Setting("worker_interval", "5", "seconds the worker waits between rounds")
SEND_TIMEOUT = Setting("send_timeout", "30", "seconds one message may take to leave (an email over SMTP, all its "
                       "steps together, or a webhook); a worker's claim on a message lasts twice as long")
WORKER_MARK = Setting("worker_mark", "each", "when the worker marks what it sent: each (every message as it "
                      "leaves, so a killed worker sends again at most the message in flight) or batch (a claimed "
                      "batch's results in one transaction: about 3x the rate on PostgreSQL, but a worker killed "
                      "mid-batch sends again what it had sent of that batch, under the same Message-IDs)")

METRICS_TOKEN = Setting("metrics_token", "", "the bearer token Prometheus scrapes /metrics with (a long random "
                        "value); empty: /metrics answers 403 and shows nothing, since it names every workspace")

SESSION_HOURS = Setting("session_hours", "12", "hours a web UI login lasts before the password is asked again")

NOW = Setting("now", "", "a fixed wall clock (RFC 3339, e.g. 2026-07-01T00:00:00+00:00) for demos, tests and loading "
              "a past period as if it were live; empty: the system clock")
FUTURE_HORIZON = Setting("future_horizon", "1d", "how far ahead of the wall clock an event may be dated (a "
                         "sender's clock running fast); later ones are refused")
ASYNC_BACKLOG = Setting("async_backlog", "200000", "how many events acknowledged with `Prefer: respond-async` may "
                        "wait to be decided in a workspace; past it such a post is answered 503 with Retry-After")
SERVE_DECIDES = Setting("serve_decides", "1", "1: each `firmly serve` process decides the events it acknowledged with "
                        "`Prefer: respond-async` in the background; 0: it leaves that to `firmly decide` processes "
                        "(reads still decide what waits first)")

SETTINGS = (DATABASE_URL, WORKSPACE, AUTHOR, RATE_LIMIT, HOST, PORT, LEXICONS, SMTP_URL, MAIL_FROM, WORKER_INTERVAL,
            SEND_TIMEOUT, WORKER_MARK, SESSION_HOURS, METRICS_TOKEN, NOW, FUTURE_HORIZON,
            ASYNC_BACKLOG, SERVE_DECIDES)

"""What-if as a background job: a replay over a long history takes minutes, so it runs in a thread of its own
(one per workspace, as simulations always were) and the page asks for its progress instead of waiting on it."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from firmly.domain.errors import Busy, FirmlyError, NotFound
from firmly.domain.ports import Store
from firmly.domain.rulebook import Rulebook
from firmly.service import simulate

log = logging.getLogger(__name__)
KEEP = 15 * 60  # seconds a finished job's result stays to be read


@dataclass
class Job:
    id: str
    workspace: str
    rulebook: str
    started: float
    done: int = 0  # events replayed
    total: int = 0  # events in the history
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def share(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


_jobs: dict[str, Job] = {}
_guard = threading.Lock()


def start(store: Store, book: Rulebook) -> Job:
    """Start a what-if in a thread; Busy if one runs in this workspace already."""
    now = time.monotonic()
    with _guard:
        for old in [j for j in _jobs.values() if j.finished is not None and now - j.finished > KEEP]:
            del _jobs[old.id]
        if any(j.workspace == store.workspace and j.finished is None for j in _jobs.values()):
            raise Busy("a simulation is already running in this workspace; try again when it is done",
                       simulate.RETRY_AFTER)
        job_id = secrets.token_urlsafe(12)
        job = _jobs[job_id] = Job(job_id, store.workspace, f"{book.id}@{book.version}", now)
    threading.Thread(target=_run, args=(job, store, book), daemon=True, name=f"what-if-{store.workspace}").start()
    return job


def get(workspace: str, job_id: str) -> Job:
    """A job of this workspace (another workspace's job is as unknown as none)."""
    job = _jobs.get(job_id)
    if job is None or job.workspace != workspace:
        raise NotFound(f"no what-if {job_id!r}; it may have finished more than {KEEP // 60} minutes ago")
    return job


def _run(job: Job, store: Store, book: Rulebook) -> None:
    def report(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        job.result = simulate.simulate(store, book, progress=report)
    except FirmlyError as exc:
        job.error = str(exc)
    except Exception as exc:  # a thread's failure must reach the page, not only the log
        log.exception("what-if %s in workspace %s failed", job.id, job.workspace)
        job.error = f"the what-if failed: {type(exc).__name__}"
    finally:
        job.finished = time.monotonic()

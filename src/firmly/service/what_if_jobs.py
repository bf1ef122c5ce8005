"""What-if as a background job: a replay over a long history takes minutes and all of a core, so it runs in a
process of its own (one per workspace, as simulations always were; a thread would hold the interpreter's lock
and slow every page) and the page asks for its progress instead of waiting on it."""

from __future__ import annotations

import logging
import multiprocessing
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmly.domain.errors import Busy, FirmlyError, NotFound
from firmly.domain.ports import Store
from firmly.domain.rulebook import parse_rulebook
from firmly.service import simulate

log = logging.getLogger(__name__)
PHASES = ("starting", "reading", "replaying", "comparing")  # the job's phases, in order, as the page names them
KEEP = 15 * 60  # seconds a finished job's result stays to be read
# Never fork the server itself (it runs threads); a fork server, single-threaded with the engine already
# imported, starts each job in milliseconds where a fresh interpreter takes seconds. "__main__" too: else each
# job imports the server's main script again (the command line and all it imports) before it can say a word.
_spawn = multiprocessing.get_context("forkserver")
_spawn.set_forkserver_preload(["__main__", "firmly.service.what_if_jobs", "firmly.bootstrap"])


@dataclass
class Job:
    id: str
    workspace: str
    rulebook: str
    started: float
    # done, total, phase (an index into PHASES): shared memory the child writes and the page reads
    progress: Any = field(default_factory=lambda: _spawn.Array("q", 3, lock=False), repr=False)
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def done(self) -> int:
        return int(self.progress[0])

    @property
    def total(self) -> int:
        return int(self.progress[1])

    @property
    def phase(self) -> str:
        return PHASES[int(self.progress[2])]

    @property
    def running(self) -> bool:
        """Until its result or error is in: the process may still be exiting after that, which holds no one up."""
        return self.result is None and self.error is None

    @property
    def share(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


_jobs: dict[str, Job] = {}
_guard = threading.Lock()


def start(open_store: Callable[[], Store], workspace: str, source: str, name: str) -> Job:
    """Start a what-if of the rulebook `source` in a process of its own; Busy if one runs in this workspace.
    `open_store` opens the workspace's store in that process (it must pickle: a top-level function or a
    functools.partial of one)."""
    book = parse_rulebook(source, name)
    now = time.monotonic()
    with _guard:
        for old in [j for j in _jobs.values() if j.finished is not None and now - j.finished > KEEP]:
            del _jobs[old.id]
        if any(j.workspace == workspace and j.running for j in _jobs.values()):
            raise Busy("a simulation is already running in this workspace; try again when it is done",
                       simulate.RETRY_AFTER)
        job_id = secrets.token_urlsafe(12)
        job = _jobs[job_id] = Job(job_id, workspace, f"{book.id}@{book.version}", now)
    receive, send = _spawn.Pipe(duplex=False)
    process = _spawn.Process(target=_replay, args=(open_store, source, name, job.progress, send), daemon=True,
                             name=f"what-if-{workspace}")
    process.start()
    send.close()  # the child holds its end; ours closed, a dead child reads as the end of the pipe
    threading.Thread(target=_collect, args=(job, process, receive), daemon=True,
                     name=f"what-if-{workspace}").start()
    return job


def get(workspace: str, job_id: str) -> Job:
    """A job of this workspace (another workspace's job is as unknown as none)."""
    job = _jobs.get(job_id)
    if job is None or job.workspace != workspace:
        raise NotFound(f"no what-if {job_id!r}; it may have finished more than {KEEP // 60} minutes ago")
    return job


def _collect(job: Job, process: Any, receive: Any) -> None:
    try:
        outcome, value = receive.recv()
        if outcome == "result":
            job.result = value
        else:
            job.error = value
    except EOFError:
        job.error = "the what-if process ended without a result"
        log.error("what-if %s in workspace %s ended without a result (exit code %s)", job.id, job.workspace,
                  process.exitcode)
    finally:
        process.join()
        job.finished = time.monotonic()


def _replay(open_store: Callable[[], Store], source: str, name: str, progress: Any,
            send: Any) -> None:
    """In the child process: the replay, its progress written to shared memory, the result sent back."""
    def report(phase: str, done: int, total: int) -> None:
        progress[0], progress[1], progress[2] = done, total, PHASES.index(phase)

    report("reading", 0, 0)  # the process runs: the page says so before the store is even opened
    try:
        result = simulate.simulate(open_store(), parse_rulebook(source, name), progress=report)
    except FirmlyError as exc:
        send.send(("error", str(exc)))
    except Exception as exc:  # the failure must reach the page, not only this process's log
        log.exception("what-if failed")
        send.send(("error", f"the what-if failed: {type(exc).__name__}"))
    else:
        send.send(("result", result))
    finally:
        send.close()

"""Worker processes end when the process that started the batch ends, however it ends.

A batch's local workers are forked by multiprocessing's fork server. If the batch process is killed
(``kill -9``, the out-of-memory killer), nothing tells them: they would wait for work forever, and
the fork server and the resource tracker with them. So each of them watches the batch process:

- every worker, from its initializer (:func:`watch`, given the batch process's id);
- the fork server, when it imports this module as one of its preloaded modules: the batch
  process names itself in the environment variable :data:`PARENT_ENV` before the fork server
  starts, and a process whose parent is the one named there watches it.

The watch is a daemon thread that waits on a pidfd (Linux 5.3 and later), or else polls every
:data:`POLL_SECONDS`, and ends the process at once (``os._exit``) when the batch process is gone.
The resource tracker then sees its last client go and ends by itself.
"""

from __future__ import annotations

import os
import select
import threading
import time

PARENT_ENV = "NEGOTIATION_BATCH_PARENT"
"""Environment variable naming the batch process, read by the fork server at start-up."""

POLL_SECONDS = 0.5
"""How often the fallback watch looks for the batch process."""

EXIT_CODE = 70
"""Exit code of a process that ended because the batch process was gone."""


def watch(pid: int) -> threading.Thread:
    """End this process as soon as process ``pid`` has ended (a daemon thread waits for it).

    Returns:
        The watching thread.
    """
    thread = threading.Thread(
        target=_wait_then_exit, args=(pid, os.getppid()), name="negotiation-lifeline", daemon=True
    )
    thread.start()
    return thread


def announce() -> None:
    """Name this process as the batch process for the fork server it is about to start."""
    os.environ[PARENT_ENV] = str(os.getpid())


def _wait_then_exit(pid: int, parent: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(EXIT_CODE)
    except (AttributeError, OSError):  # no pidfd here: poll
        while _alive(pid, parent):
            time.sleep(POLL_SECONDS)
    else:
        select.select([fd], [], [])  # readable once the process has ended
    os._exit(EXIT_CODE)


def _alive(pid: int, parent: int) -> bool:
    if pid == parent and os.getppid() != parent:
        return False  # reparented: the parent has ended (it may not be reaped yet)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except (OSError, IndexError):
        return True


def _watch_from_environment() -> None:
    """In a process started by the batch process (the fork server), watch the batch process."""
    named = os.environ.get(PARENT_ENV, "")
    if named.isdigit() and int(named) == os.getppid():
        watch(int(named))


_watch_from_environment()

"""One index run at a time per data dir: a lock file holding the running process's id.

Two runs at once would each write a build and the first to switch would delete the other's half-written one.
A lock left by a process that no longer runs (killed, machine restarted) is taken over. fcntl would release
the lock with the process too, but is not on every platform the README's commands run on.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "index.lock"


class IndexBusy(RuntimeError):
    """Another index run holds the data dir; the message names its process."""


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


@contextmanager
def index_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    for _ in range(2):  # a second try after removing a stale lock
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            try:
                holder = int(path.read_text(encoding="utf-8").strip() or 0)
            except (OSError, ValueError):
                holder = 0
            if holder and holder != os.getpid() and _running(holder):
                raise IndexBusy(f"another index run is in progress (pid {holder}); wait for it to finish") from None
            path.unlink(missing_ok=True)
    else:
        raise IndexBusy(f"could not take the index lock {path}")
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        path.unlink(missing_ok=True)

"""Who holds a claim on outbox items, and whether that process has ended.

A run claims the deliveries it sends (pipelines/alerts/state.py) so that a concurrent run does not
send them too. Interrupted cleanly, it gives them back; killed with SIGKILL (the OOM killer, `kill
-9`) it cannot, and its claims lasted their whole 15-minute lease: a run started again at once sent
none of them. A claim now names its holder, and a later run on the same host takes over the claims
of a holder that has ended. Several hosts may share the state file (a shared disk), and a pid means
nothing on another host, so only a holder on this host, this boot and this pid namespace (a
container has its own) is judged; any other keeps its lease.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Holder:
    host: str  # socket.gethostname()
    pid: int
    # The process's start, "<boot id> <pid namespace> <clock ticks since boot>" (Linux's
    # /proc/<pid>/stat): a pid taken again by another process, even after a reboot or in another
    # container of the same name, is not taken for the holder. None where it cannot be read.
    start: str | None

    @classmethod
    def this_process(cls) -> Holder:
        """Read at each claim, not once at import: a forked process has a pid of its own."""
        pid = os.getpid()
        stat = _stat(pid)
        where = _where()
        return cls(socket.gethostname(), pid, f"{where} {stat[1]}" if stat and where else None)


def has_ended(holder: Holder, here: Holder) -> bool:
    """Whether `holder` is known to have ended, as seen from `here` (this process): on this host,
    boot and pid namespace, no process runs under its pid, or one started at another time (the pid
    reused), or it is a zombie (killed, not yet reaped). False whenever that cannot be known: a
    claim of another host, or of an earlier funnelpact that did not name its holder."""
    if holder.start is None or here.start is None or holder.host != here.host:
        return False
    where, _, ticks = holder.start.rpartition(" ")
    if where != here.start.rpartition(" ")[0]:
        return False
    try:
        stat = _stat(holder.pid)
    except OSError:  # e.g. not ours to read: it may run
        return False
    if stat is None:
        # /proc mounted with hidepid hides another user's processes: a process that runs answers
        # signal 0, with EPERM if it is another user's.
        try:
            os.kill(holder.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    state, started = stat
    return state in ("Z", "X") or started != ticks


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of process `pid`; None when /proc has none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            text = file.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name, in parentheses, may hold spaces and parentheses: the fields follow the last ')'.
    fields = text.rpartition(")")[2].split()
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _where() -> str | None:
    """This boot and pid namespace, "<boot id> <pid namespace>"; None where Linux's /proc is not."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            boot = file.read().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot} {namespace}"

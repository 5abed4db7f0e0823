"""Shared helpers for the mpgameserver interop peers (mpgs_server.py, mpgs_client.py, keys.py).

Nothing in here is taken from mpgameserver; these scripts only call its public API.
See README.md in this folder for the conventions (JSON lines, payload commands, exit codes).
"""

import json
import os
import sys
import threading
import time

# RetryMode values, as mpgameserver defines them (NONE = 0, BEST_EFFORT = 1, RETRY_ON_TIMEOUT = -1).
# We pass plain ints to the library's send(); it converts them itself.
MODES = {"NONE": 0, "BEST_EFFORT": 1, "RETRY_ON_TIMEOUT": -1}

# Sizes taken from the protocol (wire-protocol.md sections 1, 5.4 and 11).
MAX_PAYLOAD_SIZE = 1434   # a message longer than this is fragmented by the Python sender
FRAGMENT_SIZE = 1024      # data bytes per intermediate fragment
FRAGMENT_HEADER = 6


def venv_python():
    cache = os.environ.get("GAMEWIRE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "gamewire")
    return os.path.join(cache, "mpgs-venv", "bin", "python")


def ensure_mpgameserver():
    """Re-exec the current script with the mpgameserver virtualenv's interpreter if the running
    interpreter cannot import mpgameserver (so `python3 mpgs_server.py ...` works too)."""
    try:
        import mpgameserver  # noqa: F401
        return
    except ImportError:
        pass
    py = venv_python()
    if os.environ.get("_GAMEWIRE_MPGS_REEXEC") or not os.path.exists(py):
        sys.stderr.write("mpgameserver is not importable and %s does not exist; run scripts/setup.sh\n" % py)
        sys.exit(4)
    os.environ["_GAMEWIRE_MPGS_REEXEC"] = "1"
    os.execv(py, [py] + sys.argv)


def parse_mode(name):
    key = name.strip().upper()
    if key not in MODES:
        raise ValueError("unknown retry mode %r (expected NONE, BEST_EFFORT or RETRY_ON_TIMEOUT)" % name)
    return key


def enum_name(value):
    """Name of an mpgameserver SerializableEnum instance (its .name is a method, not an attribute)."""
    n = getattr(value, "name", None)
    if callable(n):
        try:
            return n()
        except Exception:
            pass
    return str(value)


def pattern(tag, n):
    """Deterministic filler: `tag` (ASCII) repeated and cut to exactly n bytes."""
    if n <= 0:
        return b""
    t = tag.encode("ascii")
    return (t * (n // len(t) + 1))[:n]


def python_can_send(n):
    """False for the message sizes that mpgameserver 0.2.4 accepts but can never put on the wire
    (wire-protocol.md 5.4): 1433 and 1434 bytes, and fragmented messages whose last fragment
    carries 1427 bytes. Such a message stays queued forever and its callback never runs."""
    if n <= MAX_PAYLOAD_SIZE:
        return n + 2 <= MAX_PAYLOAD_SIZE
    rest = n
    while rest > 0:
        if rest < MAX_PAYLOAD_SIZE - FRAGMENT_HEADER:
            return FRAGMENT_HEADER + rest + 2 <= MAX_PAYLOAD_SIZE
        rest -= FRAGMENT_SIZE
    return True


def fragment_count(n):
    if n <= MAX_PAYLOAD_SIZE:
        return 0
    count, rest = 0, n
    while rest > 0:
        count += 1
        rest = 0 if rest < MAX_PAYLOAD_SIZE - FRAGMENT_HEADER else rest - FRAGMENT_SIZE
    return count


class Emitter(object):
    """Writes one JSON object per line to stdout and flushes it; safe to call from several threads."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()
        self.closed = False

    def __call__(self, event, **fields):
        rec = {"event": event, "ts": round(time.time(), 4)}
        rec.update(fields)
        line = json.dumps(rec, separators=(",", ":"), sort_keys=False) + "\n"
        with self.lock:
            if self.closed:
                return
            try:
                self.stream.write(line)
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                # the reader went away; keep running, stop writing
                self.closed = True


class JsonLogHandler(object):
    """Factory for a logging.Handler that turns library log records into {"event":"log"} lines."""

    @staticmethod
    def make(emit):
        import logging

        class _H(logging.Handler):
            def emit(self, record):
                try:
                    msg = record.getMessage()
                except Exception:
                    msg = str(record.msg)
                emit("log", level=record.levelname, logger=record.name, msg=msg)

        return _H()


def setup_logging(level_name, emit=None, as_json=False):
    import logging
    level = getattr(logging, level_name.upper(), logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = []
    if as_json and emit is not None:
        h = JsonLogHandler.make(emit)
    else:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    h.setLevel(level)
    root.addHandler(h)
    root.setLevel(level)


def stats_dict(stats):
    """The lifetime counters of an mpgameserver ConnectionStats."""
    out = {}
    for k in ("assembled", "sent", "dropped", "received", "acked", "timeouts"):
        try:
            out[k] = int(getattr(stats, k))
        except Exception:
            pass
    return out

"""Shared helpers of the Python side of the load benchmark (bench/load/python).

Nothing in here is taken from mpgameserver; the scripts only call its public API. The runner
(bench/load) talks to each script with JSON lines: it writes {"id","cmd","args"} on stdin, the
script answers {"id","ok":true,"result"} or {"id","ok":false,"error"} on stdout (one line each,
flushed). Anything else the library prints goes to stderr.
"""

import json
import math
import os
import queue
import sys
import threading

# Round-trip histogram: logarithmic buckets of 2% over microseconds (bench/load/lib/hist.ts).
GROWTH = 1.02
_LOG_GROWTH = math.log(GROWTH)

# The bots' 32-byte message (bench/load/lib/payload.ts): bot id u32, number u32, send time f64 ms.
MESSAGE_BYTES = 32
FILLER = b"." * 16

# mpgameserver's RetryMode values (mpgameserver.connection.RetryMode), by name.
RETRY = {"NONE": 0, "BEST_EFFORT": 1, "RETRY_ON_TIMEOUT": -1}


def bucket_of(us):
    return 0 if us < 1 else int(math.floor(math.log(us) / _LOG_GROWTH))


# The mpgameserver virtualenv and the re-exec into it are the interop peers' (one copy).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "test", "interop", "peers"))
from mpgs_common import ensure_mpgameserver, venv_python  # noqa: E402,F401


class Channel(object):
    """The request/response channel: a thread reads requests from stdin into a queue; replies are
    written from any thread under a lock. `closed` is set when stdin ends (the runner went away)."""

    def __init__(self):
        self.requests = queue.Queue()
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self._out = sys.stdout
        t = threading.Thread(target=self._read, name="stdin-reader", daemon=True)
        t.start()

    def _read(self):
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                self.requests.put(json.loads(line))
            except ValueError:
                continue
        self.closed.set()
        self.requests.put({"id": 0, "cmd": "exit"})

    def reply(self, req, result=None, error=None):
        rec = {"id": req.get("id", 0), "ok": error is None}
        if error is None:
            rec["result"] = result
        else:
            rec["error"] = str(error)
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        with self.lock:
            try:
                self._out.write(line)
                self._out.flush()
            except (BrokenPipeError, ValueError):
                pass

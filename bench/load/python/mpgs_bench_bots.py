#!/usr/bin/env python3
"""Bot load generator on mpgameserver 0.2.4's own UdpClient: many clients in one process.

  mpgs_bench_bots.py --port PORT --pub root.pub.pem --count N --first ID [--host 127.0.0.1] [--retry MODE]

Each bot is one `UdpClient` (its own socket and connection, as the library is meant to be used).
One loop runs at the frame rate (60 Hz): for every bot it queues one 32-byte message
(bench/load/lib/payload.ts layout, RetryMode NONE, or --retry RETRY_ON_TIMEOUT), calls `update()`
(which sends at most one datagram and reads at most one) and reads the echoes back with
`getMessages()` to measure the round trip. The bots of a frame are spread over the frame. Requests (bench_common.Channel):

  connect {concurrency, timeoutMs} -> {connected, failed, ms} once every bot connected or failed
  start {rateHz}                   -> starts sending (one message per bot per frame; frame rate = rateHz)
  mark {phase: start|end}          -> opens/closes the measurement window; {t, sent, received, connected}
  stop                             -> stops sending (updates go on)
  report                           -> what the window measured (same fields as bench/load/pool.ts PoolReport)
  exit                             -> disconnects every bot and exits
"""

import argparse
import collections
import os
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402

bc.ensure_mpgameserver()

from mpgameserver import UdpClient, EllipticCurvePublicKey  # noqa: E402

IDLE, CONNECTING, CONNECTED, GONE = 0, 1, 2, 3
CONNECT_ATTEMPTS = 3
MSG = struct.Struct("<IId")


def now_ms():
    return time.perf_counter() * 1000.0


class Bots(object):
    def __init__(self, args, pubkey, ch):
        self.args = args
        self.ch = ch
        self.pubkey = pubkey
        self.clients = [None] * args.count
        self.state = [IDLE] * args.count
        self.seqs = [0] * args.count
        self.connected = 0
        self.gone = 0
        self.dropped = 0
        self.errors = 0
        self.sending = False
        self.hz = 60.0
        self.sent_total = 0
        self.received_total = 0
        self.win_start = float("inf")
        self.win_end = float("inf")
        self.win_sent = 0
        self.win_echoed = 0
        self.win_expected = 0.0
        self.hist = {}
        self.connect_req = None
        self.connect_queue = collections.deque(range(args.count))
        self.attempts = [0] * args.count
        self.retries = 0
        self.connect_t0 = 0.0
        self.connect_deadline = 0.0
        self.concurrency = 50
        self.frames_late = 0

    # -- requests ---------------------------------------------------------------------------

    def handle(self, req):
        cmd = req.get("cmd")
        a = req.get("args") or {}
        if cmd == "connect":
            self.connect_req = req
            self.concurrency = int(a.get("concurrency") or 50)
            self.connect_t0 = now_ms()
            self.connect_deadline = self.connect_t0 + float(a.get("timeoutMs") or 60000)
        elif cmd == "start":
            self.hz = float(a.get("rateHz") or 60)
            self.sending = True
            self.ch.reply(req, None)
        elif cmd == "mark":
            t = now_ms()
            if a.get("phase") == "start":
                self.win_start, self.win_end = t, float("inf")
                self.win_sent = self.win_echoed = 0
                self.win_expected = 0.0
                self.hist = {}
            else:
                self.win_end = t
            self.ch.reply(req, {"t": t, "sent": self.sent_total, "received": self.received_total,
                                "connected": self.connected})
        elif cmd == "stop":
            self.sending = False
            self.ch.reply(req, None)
        elif cmd == "report":
            window = self.win_end - self.win_start if self.win_end != float("inf") else 0.0
            self.ch.reply(req, {
                "bots": self.args.count, "connected": self.connected, "dropped": self.dropped,
                "windowMs": window, "sent": self.win_sent, "echoed": self.win_echoed,
                "skipped": max(0, int(round(self.win_expected)) - self.win_sent), "refused": 0,
                "rtt": sorted([b, n] for b, n in self.hist.items()), "cpuUs": 0, "errors": self.errors,
                "framesLate": self.frames_late,
            })
        elif cmd == "exit":
            return False
        else:
            self.ch.reply(req, error="unknown command %r" % cmd)
        return True

    # -- connecting -------------------------------------------------------------------------

    def _connect_step(self):
        """Starts handshakes, at most `concurrency` at a time. A client whose handshake failed (its
        CLIENT_HELLO is never re-sent: mpgameserver's client gives up after 2 s) gets a new socket
        and tries again, up to CONNECT_ATTEMPTS times, as a game would."""
        if self.connect_req is None:
            return
        in_flight = sum(1 for s in self.state if s == CONNECTING)
        while self.connect_queue and in_flight < self.concurrency:
            i = self.connect_queue.popleft()
            self.attempts[i] += 1
            old = self.clients[i]
            if old is not None:
                try:
                    old.forceDisconnect()
                except Exception:
                    pass
            c = UdpClient(self.pubkey)
            self.clients[i] = c
            self.state[i] = CONNECTING

            def on_connect(ok, i=i):
                if self.state[i] != CONNECTING:
                    return
                if ok:
                    self.state[i] = CONNECTED
                    self.connected += 1
                elif self.attempts[i] < CONNECT_ATTEMPTS:
                    self.state[i] = IDLE
                    self.retries += 1
                    self.connect_queue.append(i)
                else:
                    self.state[i] = GONE
                    self.gone += 1

            c.connect((self.args.host, self.args.port), on_connect)
            in_flight += 1
        done = not self.connect_queue and self.connected + self.gone >= self.args.count
        if done or now_ms() > self.connect_deadline:
            self.ch.reply(self.connect_req, {"connected": self.connected, "failed": self.args.count - self.connected,
                                             "ms": now_ms() - self.connect_t0, "retries": self.retries})
            self.connect_req = None

    # -- the frame loop ---------------------------------------------------------------------

    def _record(self, data):
        if len(data) != bc.MESSAGE_BYTES:
            return
        _bot, _n, sent = MSG.unpack_from(data, 0)
        self.received_total += 1
        if self.win_start <= sent < self.win_end:
            self.win_echoed += 1
            b = bc.bucket_of((now_ms() - sent) * 1000.0)
            self.hist[b] = self.hist.get(b, 0) + 1

    def frame(self):
        sending = self.sending
        t = now_ms()
        in_window = self.win_start <= t < self.win_end
        if sending and in_window:
            self.win_expected += self.connected
        for i, c in enumerate(self.clients):
            st = self.state[i]
            if c is None or st == GONE:
                continue
            try:
                if sending and st == CONNECTED:
                    t = now_ms()
                    n = self.seqs[i]
                    self.seqs[i] = (n + 1) & 0xFFFFFFFF
                    c.send(MSG.pack(self.args.first + i, n, t) + bc.FILLER, retry=self.args.retry)
                    self.sent_total += 1
                    if self.win_start <= t < self.win_end:
                        self.win_sent += 1
                c.update()
                for _seq, data in c.getMessages():
                    self._record(data)
                if st == CONNECTED and not c.connected():
                    self.state[i] = GONE
                    self.connected -= 1
                    self.dropped += 1
                    self.gone += 1
            except Exception as e:  # a socket error must not stop the other bots
                self.errors += 1
                if self.errors <= 5:
                    sys.stderr.write("bot %d: %s: %s\n" % (i, type(e).__name__, e))
                if st == CONNECTED:
                    self.connected -= 1
                    self.dropped += 1
                self.state[i] = GONE
                self.gone += 1

    def run(self):
        period = 1.0 / 60
        nxt = time.perf_counter()
        while True:
            while True:
                try:
                    req = self.ch.requests.get_nowait()
                except Exception:
                    break
                if not self.handle(req):
                    self.close()
                    self.ch.reply(req, None)
                    return
            self._connect_step()
            period = 1.0 / self.hz
            self.frame()
            nxt += period
            delay = nxt - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            else:
                self.frames_late += 1
                if delay < -period:
                    nxt = time.perf_counter()   # behind by more than a frame: do not burst

    def close(self):
        for i, c in enumerate(self.clients):
            if c is not None and self.state[i] == CONNECTED:
                try:
                    c.disconnect()
                except Exception:
                    pass
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            for c in self.clients:
                if c is not None and c.conn is not None:
                    try:
                        c.update()
                    except Exception:
                        pass
            time.sleep(1.0 / 60)
        for c in self.clients:
            if c is not None:
                try:
                    c.forceDisconnect()
                except Exception:
                    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pub", required=True, help="server root public key, SPKI PEM (pinned)")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--first", type=int, default=0, help="global id of this process's first bot")
    ap.add_argument("--retry", default="NONE", choices=sorted(bc.RETRY), help="RetryMode of the messages")
    args = ap.parse_args()
    args.retry = bc.RETRY[args.retry]
    with open(args.pub) as f:
        pubkey = EllipticCurvePublicKey.fromPEM(f.read())
    ch = bc.Channel()
    Bots(args, pubkey, ch).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Scripted test client built on mpgameserver 0.2.4's own UdpClient.

Connects (server key pinned with --pub), sends --count messages per retry mode
(`echo:<MODE>:<id>:<filler>`, sent with that RetryMode), optionally one large (fragmented) message
per mode, waits until every echo (`re:<MODE>:<id>:<filler>`) arrived, then disconnects and prints a
summary. One JSON object per line on stdout. See README.md for flags, events and exit codes.

  mpgs_client.py --host 127.0.0.1 --port 40000 --pub root.pub.pem --count 20 --large
"""

import argparse
import os
import random
import sys
import time

sys.dont_write_bytecode = True   # keep __pycache__ out of the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mpgs_common as common  # noqa: E402

common.ensure_mpgameserver()

from mpgameserver import UdpClient, EllipticCurvePublicKey  # noqa: E402

emit = common.Emitter()

EXIT_OK = 0
EXIT_VERIFY = 1      # echoes missing/duplicated/corrupt/unexpected, or the connection died mid-run
EXIT_USAGE = 2       # bad arguments (argparse uses 2 as well)
EXIT_CONNECT = 3     # could not connect (handshake timeout, bad signature, socket error)


class LossySocket(object):
    """Wraps the client's UDP socket and drops a fraction of outgoing datagrams (never the first
    `exempt` ones: CLIENT_HELLO and the CHALLENGE_RESP, whose loss is fatal for mpgameserver)."""

    def __init__(self, sock, loss, rng, exempt=2):
        self._sock = sock
        self._loss = loss
        self._rng = rng
        self._exempt = exempt
        self.sent = 0
        self.dropped = 0

    def sendto(self, data, addr):
        self.sent += 1
        if self.sent > self._exempt and self._rng.random() < self._loss:
            self.dropped += 1
            return len(data)
        return self._sock.sendto(data, addr)

    def fileno(self):
        return self._sock.fileno()

    def __getattr__(self, name):
        return getattr(self._sock, name)


class Client(UdpClient):
    """UdpClient plus: the outcome of the DISCONNECT packet's callback, optional outgoing loss."""

    def __init__(self, server_public_key, loss=0.0, seed=None):
        super().__init__(server_public_key)
        self.disconnect_result = None
        self.loss = loss
        self.rng = random.Random(seed)
        self.lossy = None

    def _make_socket(self, addr):
        sock = super()._make_socket(addr)
        if self.loss > 0:
            self.lossy = LossySocket(sock, self.loss, self.rng)
            return self.lossy
        return sock

    def onDisconnectCallback(self, success):
        self.disconnect_result = bool(success)
        super().onDisconnectCallback(success)


class Pacer(object):
    """Calls come at a steady rate: sleep until the next 1/hz boundary (no catch-up bursts)."""

    def __init__(self, hz):
        self.period = 1.0 / hz
        self.next = time.monotonic()

    def wait(self):
        self.next += self.period
        now = time.monotonic()
        if self.next > now:
            time.sleep(self.next - now)
        else:
            self.next = now


def build_plan(args):
    """The messages to send: list of dicts {mode, id, request, expect}."""
    sizes = args.sizes
    plan = []
    per_mode = {m: [] for m in args.modes}
    for mode in args.modes:
        for i in range(args.count):
            per_mode[mode].append((str(i), sizes[i % len(sizes)]))
        if args.large:
            per_mode[mode].append(("L", args.large_size))
    # interleave the modes: NONE 0, BEST_EFFORT 0, RETRY 0, NONE 1, ...
    longest = max(len(v) for v in per_mode.values()) if per_mode else 0
    for k in range(longest):
        for mode in args.modes:
            if k < len(per_mode[mode]):
                ident, size = per_mode[mode][k]
                prefix = ("echo:%s:%s:" % (mode, ident)).encode("ascii")
                body = common.pattern("%s.%s|" % (mode, ident), size - len(prefix))
                request = prefix + body
                expect = b"re:" + request[len(b"echo:"):]
                plan.append({"mode": mode, "id": ident, "request": request, "expect": expect})
    return plan


def check_sizes(args):
    for size in list(args.sizes) + ([args.large_size] if args.large else []):
        # the request is `size` bytes (at least its prefix); the echo is 2 bytes shorter
        for n, who in ((size, "client"), (size - 2, "server")):
            if n > 0 and not common.python_can_send(n):
                raise ValueError("size %d: mpgameserver (%s side) can never send a %d-byte message "
                                 "(wire-protocol.md 5.4); pick another size" % (size, who, n))
    if args.large and args.large_size <= common.MAX_PAYLOAD_SIZE + 2:
        raise ValueError("--large-size must be > %d so that both directions fragment"
                         % (common.MAX_PAYLOAD_SIZE + 2))


def main():
    ap = argparse.ArgumentParser(description="mpgameserver UdpClient echo test (JSON lines on stdout)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pub", help="server root public key, SPKI PEM (pinned). Without it the client "
                                  "trusts the key embedded in SERVER_HELLO (no MITM protection)")
    ap.add_argument("--count", type=int, default=10, help="messages per mode (default 10)")
    ap.add_argument("--modes", default="NONE,BEST_EFFORT,RETRY_ON_TIMEOUT",
                    help="comma list of retry modes (default all three)")
    ap.add_argument("--sizes", default="24,200,800,1432",
                    help="comma list of request sizes in bytes, used in turn (default 24,200,800,1432)")
    ap.add_argument("--large", action="store_true",
                    help="also send one fragmented message per mode (id 'L', --large-size bytes)")
    ap.add_argument("--large-size", type=int, default=3000, help="size of the --large message (default 3000)")
    ap.add_argument("--window", type=int, default=64,
                    help="max messages in flight, i.e. sent less than --window-age s ago and not yet echoed "
                         "(0 = queue everything at once; default 64)")
    ap.add_argument("--window-age", type=float, default=3.0,
                    help="a message stops counting against --window after this many seconds (default 3)")
    ap.add_argument("--hz", type=float, default=60.0, help="update() calls per second (default 60)")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds to wait for all echoes after connecting (default 30)")
    ap.add_argument("--settle", type=float, default=3.0,
                    help="when only echoes of modes not in --must-arrive are missing, stop waiting this many "
                         "seconds after the last send (default 3)")
    ap.add_argument("--linger", type=float, default=0.5,
                    help="seconds to keep updating after the last echo, to catch late duplicates (default 0.5)")
    ap.add_argument("--close", choices=("client", "server", "none"), default="client",
                    help="client: disconnect()+waitForDisconnect(); server: send 'disconnect' and wait "
                         "for the server to close us; none: just close the socket (default client)")
    ap.add_argument("--must-arrive", default=None,
                    help="comma list of modes whose echoes must all arrive for exit 0 (default: all --modes)")
    ap.add_argument("--loss", type=float, default=0.0,
                    help="drop this fraction of outgoing datagrams after the handshake (default 0)")
    ap.add_argument("--seed", type=int, default=None, help="random seed for --loss")
    ap.add_argument("--no-data", action="store_true", help="omit hex data from message events")
    ap.add_argument("--quiet-sends", action="store_true", help="do not print a 'send' event per message")
    ap.add_argument("--log-level", default="WARNING", help="mpgameserver log level (default WARNING)")
    ap.add_argument("--log-json", action="store_true", help="library log records as {\"event\":\"log\"} lines")
    args = ap.parse_args()

    try:
        args.modes = [common.parse_mode(m) for m in args.modes.split(",") if m.strip()]
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        must = args.must_arrive.split(",") if args.must_arrive is not None else args.modes
        args.must_arrive = [common.parse_mode(m) for m in must if m.strip()]
        if not args.modes or not args.sizes or args.count < 0 or args.hz <= 0:
            raise ValueError("need at least one mode and one size, count >= 0, hz > 0")
        check_sizes(args)
    except ValueError as e:
        sys.stderr.write("mpgs_client: %s\n" % e)
        return EXIT_USAGE

    common.setup_logging(args.log_level, emit, args.log_json)

    pubkey = None
    if args.pub:
        with open(args.pub) as f:
            pubkey = EllipticCurvePublicKey.fromPEM(f.read())

    plan = build_plan(args)
    by_key = {(p["mode"], p["id"]): p for p in plan}
    received = {}            # (mode, id) -> count of deliveries
    counters = {"duplicates": 0, "corrupt": 0, "unexpected": 0}
    callbacks = {m: {"true": 0, "false": 0} for m in args.modes}
    callback_ids = set()
    sent_keys = []

    client = Client(pubkey, loss=args.loss, seed=args.seed)
    state = {"connect": None}

    def on_connect(ok):
        state["connect"] = bool(ok)

    emit("start", host=args.host, port=args.port, pid=os.getpid(), pinned=bool(pubkey),
         messages=len(plan), modes=args.modes)
    t_start = time.monotonic()
    pacer = Pacer(args.hz)

    # -- connect --------------------------------------------------------------------------------
    try:
        client.connect((args.host, args.port), on_connect)
        while state["connect"] is None:
            client.update()
            if time.monotonic() - t_start > 10:   # the library gives up after 2 s by itself
                state["connect"] = False
                break
            pacer.wait()
    except Exception as e:
        # an invalid SERVER_HELLO signature (wrong --pub) is raised out of update() as
        # InvalidSignature; socket errors from recvfrom/sendto also come out of update()
        emit("connect_failed", reason="%s: %s" % (type(e).__name__, e),
             status=common.enum_name(client.status()))
        emit("summary", ok=False, connected=False, elapsed=round(time.monotonic() - t_start, 3))
        return EXIT_CONNECT
    if not state["connect"]:
        emit("connect_failed", reason="handshake timeout", status=common.enum_name(client.status()))
        client.forceDisconnect()
        emit("summary", ok=False, connected=False, elapsed=round(time.monotonic() - t_start, 3))
        return EXIT_CONNECT

    token = int(client.token())
    local = None
    try:
        local = list(client.sock.getsockname()[:2])
    except Exception:
        pass
    t_connected = time.monotonic()
    emit("connected", token=token, local=local, elapsed=round(t_connected - t_start, 3))

    # -- exchange -------------------------------------------------------------------------------
    next_idx = 0
    in_flight = {}           # (mode, id) -> send time, until echoed or older than --window-age
    must_keys = set(k for k in by_key if k[0] in args.must_arrive)
    t_last_send = None
    failure = None
    last_status = common.enum_name(client.status())
    t_all_echoed = None

    def make_callback(mode, ident):
        def cb(acked):
            callbacks[mode]["true" if acked else "false"] += 1
            callback_ids.add((mode, ident))
            emit("callback", mode=mode, id=ident, acked=bool(acked))
        return cb

    def handle(seq, data):
        fields = {"seq": int(seq), "len": len(data)}
        if not args.no_data:
            fields["data"] = data.hex()
        parts = data.split(b":", 3)
        key = None
        if len(parts) == 4 and parts[0] == b"re":
            try:
                key = (parts[1].decode("ascii"), parts[2].decode("ascii"))
            except UnicodeDecodeError:
                key = None
        if key is None or key not in by_key:
            counters["unexpected"] += 1
            emit("message", status="unexpected", **fields)
            return
        mode, ident = key
        if data != by_key[key]["expect"]:
            counters["corrupt"] += 1
            emit("message", status="corrupt", mode=mode, id=ident, **fields)
            return
        n = received.get(key, 0) + 1
        received[key] = n
        if n > 1:
            counters["duplicates"] += 1
            emit("message", status="duplicate", mode=mode, id=ident, **fields)
        else:
            in_flight.pop(key, None)
            emit("message", status="ok", mode=mode, id=ident, **fields)

    try:
        deadline = t_connected + args.timeout
        while True:
            now = time.monotonic()
            # refill the window
            for k in [k for k, t in in_flight.items() if now - t > args.window_age]:
                del in_flight[k]
            while next_idx < len(plan) and (args.window <= 0 or len(in_flight) < args.window):
                p = plan[next_idx]
                next_idx += 1
                in_flight[(p["mode"], p["id"])] = now
                t_last_send = now
                mode_value = common.MODES[p["mode"]]
                client.send(p["request"], retry=mode_value, callback=make_callback(p["mode"], p["id"]))
                sent_keys.append((p["mode"], p["id"]))
                if not args.quiet_sends:
                    emit("send", mode=p["mode"], id=p["id"], len=len(p["request"]),
                         fragments=common.fragment_count(len(p["request"])))

            client.update()
            for seq, data in client.getMessages():
                handle(seq, data)

            status = common.enum_name(client.status())
            if status != last_status:
                emit("status", status=status, previous=last_status)
                last_status = status
            if status != "CONNECTED":
                failure = "connection became %s" % status
                break

            if t_all_echoed is None:
                complete = len(received) == len(plan)
                must_done = all(k in received for k in must_keys)
                settled = (next_idx == len(plan) and t_last_send is not None
                           and now - t_last_send >= args.settle)
                if complete or (must_done and (settled or now > deadline)):
                    t_all_echoed = now
                    emit("echoes_done", complete=complete, echoed=len(received), expected=len(plan),
                         elapsed=round(now - t_connected, 3))
                elif now > deadline:
                    failure = "timeout waiting for echoes"
                    break
            if t_all_echoed is not None and now - t_all_echoed >= args.linger:
                break
            pacer.wait()
    except Exception as e:
        failure = "%s: %s" % (type(e).__name__, e)
        emit("error", reason=failure)

    t_done = time.monotonic()
    stats = common.stats_dict(client.stats())
    latency = round(float(client.latency()), 5)

    # -- close ----------------------------------------------------------------------------------
    close = {"initiator": args.close}
    if failure is not None and client.status() is not None and common.enum_name(client.status()) != "CONNECTED":
        # DISCONNECTING = the server sent DISCONNECT; DROPPED = 5 s without any packet from it
        close["initiator"] = {"DISCONNECTING": "remote", "DROPPED": "dropped"}.get(last_status, "none")
        close["status"] = last_status
        client.forceDisconnect()
    elif args.close == "client":
        try:
            client.disconnect()
            close["status_after_disconnect"] = common.enum_name(client.status())
            t0 = time.monotonic()
            client.waitForDisconnect()
            close["wait"] = round(time.monotonic() - t0, 3)
            # True = the DISCONNECT packet was acked, False = it timed out, None = no callback
            # within waitForDisconnect()'s 1 s
            close["disconnect_acked"] = client.disconnect_result
        except Exception as e:
            close["error"] = "%s: %s" % (type(e).__name__, e)
        close["status"] = common.enum_name(client.status())
    elif args.close == "server":
        # ask the server to close us, then wait for its DISCONNECT (-> DISCONNECTING); the server's
        # final packet is often never sent (wire-protocol.md 13.2) so DROPPED after 5 s is also normal
        try:
            client.send(b"disconnect:", retry=common.MODES["RETRY_ON_TIMEOUT"])
            t0 = time.monotonic()
            st = common.enum_name(client.status())
            while st == "CONNECTED" and time.monotonic() - t0 < 7.0:
                client.update()
                for seq, data in client.getMessages():
                    handle(seq, data)
                st = common.enum_name(client.status())
                pacer.wait()
            close["status"] = st
            close["wait"] = round(time.monotonic() - t0, 3)
        except Exception as e:
            close["error"] = "%s: %s" % (type(e).__name__, e)
        client.forceDisconnect()
    else:
        client.forceDisconnect()
        close["status"] = "DISCONNECTED"
    emit("disconnected", **close)

    # -- summary --------------------------------------------------------------------------------
    modes = {}
    missing_total = 0
    ok = failure is None
    for mode in args.modes:
        keys = [(p["mode"], p["id"]) for p in plan if p["mode"] == mode]
        missing = [k[1] for k in keys if k not in received]
        dups = sum(received[k] - 1 for k in keys if received.get(k, 0) > 1)
        no_cb = [k[1] for k in keys if k in set(sent_keys) and k not in callback_ids]
        modes[mode] = {
            "sent": sum(1 for k in sent_keys if k[0] == mode),
            "echoed": sum(1 for k in keys if k in received),
            "duplicates": dups,
            "missing": missing,
            "callbacks": callbacks[mode],
            "ids_without_callback": no_cb,
        }
        missing_total += len(missing)
        if mode in args.must_arrive and missing:
            ok = False
    if counters["duplicates"] or counters["corrupt"] or counters["unexpected"]:
        ok = False
    summary = {
        "ok": ok,
        "connected": True,
        "token": token,
        "failure": failure,
        "elapsed": round(t_done - t_start, 3),
        "exchange_time": round((t_all_echoed or t_done) - t_connected, 3),
        "totals": {
            "sent": len(sent_keys),
            "echoed": len(received),
            "missing": missing_total,
            "duplicates": counters["duplicates"],
            "corrupt": counters["corrupt"],
            "unexpected": counters["unexpected"],
        },
        "modes": modes,
        "close": close,
        "latency": latency,
        "stats": stats,
    }
    if client.lossy is not None:
        summary["loss"] = {"sent": client.lossy.sent, "dropped": client.lossy.dropped}
    emit("summary", **summary)
    return EXIT_OK if ok else EXIT_VERIFY


if __name__ == "__main__":
    sys.exit(main())

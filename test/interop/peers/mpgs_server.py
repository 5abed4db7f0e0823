#!/usr/bin/env python3
"""Echo-style test server built on mpgameserver 0.2.4's own headless TwistedServer.

Prints one JSON object per line on stdout for every event. Every message a client sends is a
small text command (see README.md):

  echo:<MODE>:<id>:<body>                -> re:<MODE>:<id>:<body>                (sent with RetryMode MODE)
  big:<MODE>:<id>:<size>                 -> re:<MODE>:<id>:<filler>, exactly <size> bytes in total
  burst:<MODE>:<id>:<count>:<size>       -> <count> x re:<MODE>:<id>.<k>:<filler>, each <size> bytes
  disconnect[:...]                       -> the server closes this client (client.disconnect())

Run with the mpgameserver virtualenv's python (it re-execs itself into it if needed):
  mpgs_server.py --host 127.0.0.1 --port 0 --key root.pem
"""

import argparse
import os
import random
import signal
import sys

# a SIGTERM/SIGINT that arrives while the (slow) imports run is remembered and honoured once the
# server is up, so that the process still ends with {"event":"stopped"} and exit code 0
_early_signals = []
for _sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(_sig, lambda signum, frame: _early_signals.append(signum))

sys.dont_write_bytecode = True   # keep __pycache__ out of the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mpgs_common as common  # noqa: E402

common.ensure_mpgameserver()

from mpgameserver import EventHandler, ServerContext, TwistedServer  # noqa: E402
from mpgameserver import EllipticCurvePrivateKey  # noqa: E402

emit = common.Emitter()


def _addr(a):
    return [a[0], int(a[1])]


class EchoHandler(EventHandler):
    """Game logic: answer the command carried in each message. Runs on mpgameserver's server thread."""

    def __init__(self, show_data=True):
        super().__init__()
        self.show_data = show_data
        self.clients = {}
        self.kicked = set()
        self.stopping = False

    def starting(self):
        emit("starting")

    def shutdown(self):
        emit("shutdown")

    def connect(self, client):
        self.clients[client.token] = client
        emit("connect", token=int(client.token), addr=_addr(client.addr))

    def disconnect(self, client):
        self.clients.pop(client.token, None)
        status = common.enum_name(client.status)
        if client.token in self.kicked:
            reason = "kicked"           # our 'disconnect' command
        elif status == "DISCONNECTED":
            reason = "client"           # the client sent DISCONNECT
        elif self.stopping:
            reason = "shutdown"         # server stopping: clients are dropped without a message
        else:
            reason = "timeout"          # nothing received for the connection timeout (5 s)
        self.kicked.discard(client.token)
        emit("disconnect", token=int(client.token), addr=_addr(client.addr), reason=reason,
             status=status, stats=common.stats_dict(client.stats))

    def handle_message(self, client, seqnum, msg=b""):
        token = int(client.token)
        fields = {"token": token, "seq": int(seqnum), "len": len(msg)}
        if self.show_data:
            fields["data"] = msg.hex()
        emit("message", **fields)
        try:
            self._command(client, token, msg)
        except Exception as e:  # a bad command must never take the server down
            emit("error", token=token, seq=int(seqnum), reason="%s: %s" % (type(e).__name__, e))

    # -- commands -----------------------------------------------------------------------------

    def _command(self, client, token, msg):
        verb, _, rest = msg.partition(b":")
        if verb == b"echo":
            mode, ident, body = rest.split(b":", 2)
            mode = common.parse_mode(mode.decode("ascii"))
            self._reply(client, token, mode, ident.decode("ascii"), body)
        elif verb == b"big":
            mode, ident, size = rest.split(b":", 2)
            mode = common.parse_mode(mode.decode("ascii"))
            ident = ident.decode("ascii")
            self._reply_sized(client, token, mode, ident, int(size))
        elif verb == b"burst":
            mode, ident, count, size = rest.split(b":", 3)
            mode = common.parse_mode(mode.decode("ascii"))
            ident = ident.decode("ascii")
            for k in range(int(count)):
                self._reply_sized(client, token, mode, "%s.%d" % (ident, k), int(size))
        elif verb == b"disconnect":
            emit("kick", token=token, addr=_addr(client.addr))
            self.kicked.add(client.token)
            client.disconnect()
        else:
            emit("error", token=token, reason="unknown command", data=msg[:64].hex())

    def _reply_sized(self, client, token, mode, ident, size):
        prefix = ("re:%s:%s:" % (mode, ident)).encode("ascii")
        body = common.pattern("%s.%s|" % (mode, ident), size - len(prefix))
        self._reply(client, token, mode, ident, body)

    def _reply(self, client, token, mode, ident, body):
        payload = b"re:" + mode.encode("ascii") + b":" + ident.encode("ascii") + b":" + body
        if not common.python_can_send(len(payload)):
            # mpgameserver would queue it and never send it (wire-protocol.md 5.4): say so instead
            emit("error", token=token, id=ident, mode=mode, len=len(payload),
                 reason="mpgameserver cannot send a message of this size")
            return

        def on_ack(acked, ident=ident, mode=mode):
            emit("callback", token=token, id=ident, mode=mode, acked=bool(acked))

        client.send(payload, retry=common.MODES[mode], callback=on_ack)
        emit("send", token=token, id=ident, mode=mode, len=len(payload),
             fragments=common.fragment_count(len(payload)))


class EchoServer(TwistedServer):
    """mpgameserver's TwistedServer, plus: report the real bound address, optional outgoing loss."""

    def __init__(self, ctxt, addr, handler, loss=0.0, seed=None):
        super().__init__(ctxt, addr, install_signals=False)
        self.echo_handler = handler
        self.loss = loss
        self.rng = random.Random(seed)
        self.dropped = 0
        self._stopping = False
        self._running = False
        self._stop_requested = False

    def startProtocol(self):
        # twisted calls this once the UDP port is bound; with --port 0 this is the only place
        # where the real port is known
        h = self.transport.getHost()
        emit("listening", host=h.host, port=int(h.port), pid=os.getpid(),
             pub_spki=self.ctxt.server_root_key.getPublicKey().getBytes().hex())

    def sendPacketsUnsafe(self, seq):
        if self.loss > 0:
            kept = []
            for item in seq:
                pkt = item[0]
                # never drop SERVER_HELLO (type 2): the handshake has no retransmission
                if int(pkt.hdr.pkt_type.value) != 2 and self.rng.random() < self.loss:
                    self.dropped += 1
                    continue
                kept.append(item)
            seq = kept
        super().sendPacketsUnsafe(seq)

    def run(self):
        from twisted.internet import reactor
        reactor.callWhenRunning(self._on_reactor_running)
        super().run()

    def _on_reactor_running(self):
        self._running = True
        if self._stop_requested:
            self.request_stop()

    def request_stop(self, *args):
        # TwistedServer.stop() joins the server thread and stops the reactor: only valid once the
        # reactor runs, and only once
        self._stop_requested = True
        if self._stopping or not self._running:
            return
        self._stopping = True
        self.echo_handler.stopping = True
        self.stop()


def main():
    ap = argparse.ArgumentParser(description="mpgameserver echo test server (JSON lines on stdout)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; '::' for IPv6)")
    ap.add_argument("--port", type=int, default=0, help="UDP port (0 = pick a free one; see the listening event)")
    ap.add_argument("--key", help="root private key, PKCS#8 PEM (default: mpgameserver generates a random one)")
    ap.add_argument("--no-data", action="store_true", help="omit the hex 'data' field from message events")
    ap.add_argument("--connection-timeout", type=float, default=None,
                    help="ServerContext.setConnectionTimeout (library default 5.0 s)")
    ap.add_argument("--temp-timeout", type=float, default=None,
                    help="ServerContext.setTempConnectionTimeout (library default 2.0 s)")
    ap.add_argument("--loss", type=float, default=0.0,
                    help="drop this fraction of outgoing datagrams (never SERVER_HELLO); default 0")
    ap.add_argument("--seed", type=int, default=None, help="random seed for --loss")
    ap.add_argument("--log-level", default="WARNING", help="mpgameserver log level (default WARNING)")
    ap.add_argument("--log-json", action="store_true",
                    help="emit library log records as {\"event\":\"log\"} lines on stdout instead of stderr")
    args = ap.parse_args()

    common.setup_logging(args.log_level, emit, args.log_json)

    root_key = None
    if args.key:
        with open(args.key) as f:
            root_key = EllipticCurvePrivateKey.fromPEM(f.read())

    handler = EchoHandler(show_data=not args.no_data)
    ctxt = ServerContext(handler, root_key)
    if args.connection_timeout is not None:
        ctxt.setConnectionTimeout(args.connection_timeout)
    if args.temp_timeout is not None:
        ctxt.setTempConnectionTimeout(args.temp_timeout)

    server = EchoServer(ctxt, (args.host, args.port), handler, loss=args.loss, seed=args.seed)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, server.request_stop)
    if _early_signals:
        server.request_stop()

    try:
        server.run()
    except Exception as e:
        emit("error", reason="%s: %s" % (type(e).__name__, e))
        emit("stopped", ok=False)
        return 1
    extra = {"dropped_by_loss": server.dropped} if args.loss > 0 else {}
    emit("stopped", ok=True, **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""mpgameserver 0.2.4's own headless TwistedServer as the load benchmark's echo server.

  mpgs_bench_server.py --key root.pem [--host 127.0.0.1] [--port 0] [--sink] [--retry MODE]

Every message goes back to its sender with RetryMode NONE (the library's server default; --retry
RETRY_ON_TIMEOUT to retry until acknowledged), unless --sink (count only). The process counts the
datagrams it receives (datagramReceived) and sends (sendPacketsUnsafe), and answers the runner's requests (bench_common.Channel):

  hello  -> {"port", "pid"} once the UDP port is bound
  sample -> {"datagramsIn", "datagramsOut", "messagesIn", "clients"}
  exit   -> stops the server (TwistedServer.stop) and exits 0

CPU time is read by the runner from /proc/<pid>/stat (both threads: reactor and server loop).
"""

import argparse
import os
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402

bc.ensure_mpgameserver()

from mpgameserver import EventHandler, ServerContext, TwistedServer  # noqa: E402
from mpgameserver import EllipticCurvePrivateKey  # noqa: E402


class Echo(EventHandler):
    def __init__(self, echo=True, retry=0):
        super().__init__()
        self.echo = echo
        self.retry = retry
        self.messages = 0
        self.clients = 0

    def connect(self, client):
        self.clients += 1

    def disconnect(self, client):
        self.clients -= 1

    def handle_message(self, client, seqnum, msg=b""):
        self.messages += 1
        if self.echo:
            client.send(msg, retry=self.retry)


class CountingServer(TwistedServer):
    def __init__(self, ctxt, addr):
        super().__init__(ctxt, addr, install_signals=False)
        self.datagrams_in = 0
        self.datagrams_out = 0
        self.bound_port = None
        self.ready = threading.Event()

    def startProtocol(self):
        self.bound_port = int(self.transport.getHost().port)
        self.ready.set()

    def datagramReceived(self, datagram, addr):
        self.datagrams_in += 1
        super().datagramReceived(datagram, addr)

    def sendPacketsUnsafe(self, seq):
        seq = list(seq)
        self.datagrams_out += len(seq)
        super().sendPacketsUnsafe(seq)


def serve_requests(ch, server, handler):
    while True:
        req = ch.requests.get()
        cmd = req.get("cmd")
        try:
            if cmd == "hello":
                if not server.ready.wait(30):
                    raise RuntimeError("the UDP port was not bound within 30 s")
                ch.reply(req, {"port": server.bound_port, "pid": os.getpid()})
            elif cmd == "sample":
                ch.reply(req, {"datagramsIn": server.datagrams_in, "datagramsOut": server.datagrams_out,
                               "messagesIn": handler.messages, "clients": handler.clients})
            elif cmd == "exit":
                try:
                    server.stop()
                finally:
                    ch.reply(req, None)
                return
            else:
                ch.reply(req, error="unknown command %r" % cmd)
        except Exception as e:  # answer, never die on a bad request
            ch.reply(req, error="%s: %s" % (type(e).__name__, e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", required=True, help="root private key, PEM")
    ap.add_argument("--sink", action="store_true", help="count messages, do not echo them")
    ap.add_argument("--retry", default="NONE", choices=sorted(bc.RETRY), help="RetryMode of the echoes")
    args = ap.parse_args()

    with open(args.key) as f:
        root_key = EllipticCurvePrivateKey.fromPEM(f.read())
    handler = Echo(echo=not args.sink, retry=bc.RETRY[args.retry])
    ctxt = ServerContext(handler, root_key)
    server = CountingServer(ctxt, (args.host, args.port))
    ch = bc.Channel()
    t = threading.Thread(target=serve_requests, args=(ch, server, handler), name="requests", daemon=True)
    t.start()
    server.run()   # blocks until stop(): the reactor runs in this (main) thread
    t.join(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

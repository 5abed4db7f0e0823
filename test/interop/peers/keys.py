#!/usr/bin/env python3
"""Root key pairs for the interop peers, made by mpgameserver itself.

  keys.py genkey --out DIR [--name root]      DIR/root.pem (PKCS#8 PEM private), DIR/root.pub.pem (SPKI PEM)
  keys.py pubkey --key root.pem --out root.pub.pem   derive the public key of an existing private key

`genkey` runs mpgameserver's own `python -m mpgameserver genkey --name NAME TMPDIR` (which writes
NAME.key / NAME.pub) and moves the two files into place under the names our tests use, after
checking that they load with EllipticCurvePrivateKey.fromPEM / EllipticCurvePublicKey.fromPEM and
belong together. Prints one JSON line describing the result.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True   # keep __pycache__ out of the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mpgs_common as common  # noqa: E402

common.ensure_mpgameserver()

from mpgameserver import EllipticCurvePrivateKey, EllipticCurvePublicKey  # noqa: E402

emit = common.Emitter()


def load_pair(prv_path, pub_path):
    with open(prv_path) as f:
        prv = EllipticCurvePrivateKey.fromPEM(f.read())
    with open(pub_path) as f:
        pub = EllipticCurvePublicKey.fromPEM(f.read())
    if prv.getPublicKey().getBytes() != pub.getBytes():
        raise ValueError("public key does not belong to the private key")
    # round trip a signature the way SERVER_HELLO uses it (ECDSA P-256 / SHA-256, DER)
    pub.verify(prv.sign(b"gamewire"), b"gamewire")
    return prv, pub


def genkey(args):
    os.makedirs(args.out, exist_ok=True)
    prv_dst = os.path.join(args.out, args.name + ".pem")
    pub_dst = os.path.join(args.out, args.name + ".pub.pem")
    with tempfile.TemporaryDirectory(prefix="mpgs-genkey-") as tmp:
        subprocess.run([sys.executable, "-m", "mpgameserver", "genkey", "--name", args.name, tmp],
                       check=True, cwd=tmp)
        prv_src = os.path.join(tmp, args.name + ".key")
        pub_src = os.path.join(tmp, args.name + ".pub")
        _, pub = load_pair(prv_src, pub_src)
        os.chmod(prv_src, 0o600)
        shutil.move(prv_src, prv_dst)
        shutil.move(pub_src, pub_dst)
    emit("genkey", private=os.path.abspath(prv_dst), public=os.path.abspath(pub_dst),
         spki=pub.getBytes().hex())
    return 0


def pubkey(args):
    with open(args.key) as f:
        prv = EllipticCurvePrivateKey.fromPEM(f.read())
    pub = prv.getPublicKey()
    with open(args.out, "w") as f:
        f.write(pub.getPublicKeyPEM())
    emit("pubkey", private=os.path.abspath(args.key), public=os.path.abspath(args.out),
         spki=pub.getBytes().hex())
    return 0


def main():
    ap = argparse.ArgumentParser(description="root keys for the mpgameserver interop peers")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("genkey", help="write DIR/NAME.pem (private) and DIR/NAME.pub.pem (public)")
    g.add_argument("--out", required=True, help="output directory (created if missing)")
    g.add_argument("--name", default="root", help="file name stem (default root)")
    p = sub.add_parser("pubkey", help="write the SPKI PEM public key of a PKCS#8 PEM private key")
    p.add_argument("--key", required=True)
    p.add_argument("--out", required=True)
    args = ap.parse_args()
    try:
        return genkey(args) if args.cmd == "genkey" else pubkey(args)
    except Exception as e:
        sys.stderr.write("keys.py: %s: %s\n" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())

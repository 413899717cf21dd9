#!/usr/bin/env python3
"""A TLS client for the HTTPS tests (Python's ssl module, OpenSSL underneath): connects with a chosen SNI name,
TLS version and cipher list, trusting the test CA, sends GET requests (HTTP/1.1) and prints one JSON object a line:
what was negotiated, the certificate the server chose, the answers. Options:
  --port P --servername NAME --cafile CA [--tls 1.2|1.3] [--ciphers OPENSSL-LIST] [--path /x] [--host HOST]
  --resume       connect a second time with the first connection's session; report whether it was resumed
  --wait-stdin   after the first answer print {"event": "first"} and wait for a line on stdin before sending the
                 second request on the same connection
"""
import argparse, hashlib, json, socket, ssl, sys

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--servername")
ap.add_argument("--cafile", required=True)
ap.add_argument("--tls", choices=["1.0", "1.1", "1.2", "1.3"])
ap.add_argument("--ciphers")
ap.add_argument("--path", default="/")
ap.add_argument("--host")
ap.add_argument("--resume", action="store_true")
ap.add_argument("--wait-stdin", action="store_true")
args = ap.parse_args()

ctx = ssl.create_default_context(cafile=args.cafile)
ctx.check_hostname = args.servername is not None
if args.tls:
    v = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2,
         "1.3": ssl.TLSVersion.TLSv1_3}[args.tls]
    if v < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = v
    ctx.maximum_version = v
if args.ciphers:
    ctx.set_ciphers(args.ciphers)


def out(obj):
    print(json.dumps(obj), flush=True)


def request(s, close):
    host = args.host or args.servername or "localhost"
    s.sendall(f"GET {args.path} HTTP/1.1\r\nHost: {host}\r\n{'Connection: close' if close else ''}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    if close:
        while s.recv(65536):  # until the server closes (TLS 1.3 tickets arrive meanwhile)
            pass
    return {"status": status, "headers": headers, "body_len": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def connect(session=None):
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname=args.servername, session=session)
    cert = s.getpeercert()
    cn = [v for rdn in cert.get("subject", ()) for (k, v) in rdn if k == "commonName"]
    san = [v for (k, v) in cert.get("subjectAltName", ()) if k == "DNS"]
    info = {"version": s.version(), "cipher": s.cipher()[0], "cn": cn[0] if cn else None, "san": san,
            "alpn": s.selected_alpn_protocol(), "reused": s.session_reused}
    return s, info


try:
    s, info = connect()
    if args.wait_stdin:
        info["first"] = request(s, close=False)
        out({"event": "first", **info})
        sys.stdin.readline()
        info["second"] = request(s, close=True)
    else:
        info["first"] = request(s, close=True)
    session = s.session
    s.close()
    if args.resume:
        s2, again = connect(session)
        again["first"] = request(s2, close=True)
        s2.close()
        info["resumed"] = again
    out({"ok": True, **info})
except (ssl.SSLError, OSError) as e:
    out({"ok": False, "error": f"{type(e).__name__}: {e}"})

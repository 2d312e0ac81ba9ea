"""A MATTR VII interaction hook in Python's standard library alone, for
the mattr-hook end-to-end tests: it verifies the session token (HS256 with
the base64-decoded secret, iss, aud, exp) and answers at once, as the path
says: /complete, /fail, or broken on purpose: /wrong-secret, /not-swapped
(iss and aud sent back as received), /state-changed.

Usage: python3 hook.py  (HOOK_SECRET and HOOK_ISSUER in the environment;
prints the port it listens on, on 127.0.0.1, then serves)."""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = base64.b64decode(os.environ["HOOK_SECRET"].split(",")[0])
ISSUER = os.environ["HOOK_ISSUER"]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload, key):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    tag = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(tag)}"


def verify(token, audience):
    header, body, tag = token.split(".")
    expected = hmac.new(SECRET, f"{header}.{body}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, unb64url(tag)):
        raise ValueError("bad signature")
    if json.loads(unb64url(header)).get("alg") != "HS256":
        raise ValueError("wrong algorithm")
    claims = json.loads(unb64url(body))
    if claims["iss"] != ISSUER or claims["aud"] != audience:
        raise ValueError("wrong iss or aud")
    if claims["exp"] <= time.time():
        raise ValueError("expired")
    return claims


class Hook(BaseHTTPRequestHandler):
    def do_GET(self):
        path, _, query = self.path.partition("?")
        token = urllib.parse.parse_qs(query).get("session_token", [""])[0]
        port = self.server.server_address[1]
        try:
            incoming = verify(token, f"http://127.0.0.1:{port}{path}")
        except Exception as error:  # any refusal: a 401, as a hook would
            self.send_response(401)
            self.end_headers()
            self.wfile.write(str(error).encode())
            return
        now = int(time.time())
        mode = path.strip("/")
        response = {
            "iss": incoming["aud"],
            "aud": incoming["iss"],
            "iat": now,
            "exp": now + 60,
            "state": incoming["state"],
        }
        if mode == "fail":
            response["error"] = {"message": "Insufficient identity assurance level"}
        else:
            response["claims"] = {"preferredName": "Ada", "given": incoming.get("claims", {})}
            response["claimsToPersist"] = ["preferredName"]
        key = SECRET
        if mode == "wrong-secret":
            key = bytes(32)
        elif mode == "not-swapped":
            response["iss"], response["aud"] = incoming["iss"], incoming["aud"]
        elif mode == "state-changed":
            response["state"] = incoming["state"] + "x"
        location = incoming["redirectUrl"] + "?" + urllib.parse.urlencode(
            {"session_token": sign(response, key)}
        )
        self.send_response(302)
        self.send_header("Location", location)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Hook)
print(server.server_address[1], flush=True)
server.serve_forever()

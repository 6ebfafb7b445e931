"""A local stand-in for the few Twilio endpoints the portal uses, for tests and `make run`.

- `POST /2010-04-01/Accounts/<sid>/Messages.json` sends a text, as Twilio's Messages API: HTTP
  basic auth with the account SID and auth token, form fields To, From and Body, a 201 with the
  message's JSON. Twilio's magic test number +15005550001 is refused as invalid (error 21211), as
  Twilio's test credentials do.
- `GET /_standin/messages` lists what was sent (tests read it; `make run` prints it).
- `POST /_standin/incoming` with `url`, `From` and `Body` (and optionally `MessageSid`) delivers an
  incoming text to the portal's webhook, form-encoded and signed with X-Twilio-Signature as Twilio
  signs (the twilio package's own RequestValidator), and answers with the portal's response.
- `POST /_standin/reset` forgets every message.
"""

import argparse
import base64
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

INVALID_NUMBER = "+15005550001"


class Store:
    def __init__(self, account_sid: str, auth_token: str, log_path: str | None):
        self.account_sid, self.auth_token, self.log_path = account_sid, auth_token, log_path
        self.messages: list[dict] = []
        self.lock = threading.Lock()

    def add(self, to: str, sender: str, body: str) -> dict:
        message = {
            "sid": "SM" + secrets.token_hex(16),
            "account_sid": self.account_sid,
            "to": to,
            "from": sender,
            "body": body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": str(max(1, -(-len(body) // 153))),
            "date_created": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages.json",
        }
        with self.lock:
            self.messages.append(message)
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps({"to": to, "body": body}) + "\n")
        return message


def deliver_incoming(*, url: str, params: dict[str, str], auth_token: str) -> tuple[int, str]:
    """POST an incoming-message webhook to `url`, signed as Twilio signs it."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("The webhook address must be http or https.")
    signature = RequestValidator(auth_token).compute_signature(url, params)
    request = urllib.request.Request(  # noqa: S310 (http or https, checked above)
        url,
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def handler_for(store: Store):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # quiet: tests and `make run` read the store instead
            pass

        def _reply(self, status: int, payload) -> None:
            body = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            return dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))

        def _authorized(self) -> bool:
            expected = base64.b64encode(f"{store.account_sid}:{store.auth_token}".encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def do_GET(self):
            if self.path.startswith("/_standin/messages"):
                with store.lock:
                    return self._reply(200, {"messages": list(store.messages)})
            if self.path == "/_standin/health":
                return self._reply(200, {"ok": True})
            return self._reply(404, {"code": 20404, "message": "The requested resource was not found"})

        def do_POST(self):
            form = self._form()
            if self.path == "/_standin/reset":
                with store.lock:
                    store.messages.clear()
                return self._reply(200, {"ok": True})
            if self.path == "/_standin/incoming":
                url = form.pop("url")
                params = {
                    "MessageSid": form.pop("MessageSid", "SM" + secrets.token_hex(16)),
                    "AccountSid": store.account_sid,
                    "To": form.pop("To", ""),
                    "NumMedia": "0",
                    **form,
                }
                status, body = deliver_incoming(url=url, params=params, auth_token=store.auth_token)
                return self._reply(200, {"status": status, "body": body})
            if self.path == f"/2010-04-01/Accounts/{store.account_sid}/Messages.json":
                if not self._authorized():
                    return self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                to, body = form.get("To", ""), form.get("Body", "")
                if to == INVALID_NUMBER or not to.startswith("+"):
                    return self._reply(
                        400,
                        {
                            "code": 21211,
                            "message": f"The 'To' number {to} is not a valid phone number.",
                            "status": 400,
                        },
                    )
                if not body:
                    return self._reply(
                        400, {"code": 21602, "message": "Message body is required.", "status": 400}
                    )
                return self._reply(201, store.add(to, form.get("From", ""), body))
            return self._reply(404, {"code": 20404, "message": "The requested resource was not found"})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--log", help="append each text sent to this file (one JSON per line)")
    args = parser.parse_args()
    store = Store(args.account_sid, args.auth_token, args.log)
    ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(store)).serve_forever()


if __name__ == "__main__":
    main()

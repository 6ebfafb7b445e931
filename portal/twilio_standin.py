"""A local stand-in for the few Twilio endpoints the portal uses, for tests and `make run`.

- `POST /2010-04-01/Accounts/<sid>/Messages.json` sends a text, as Twilio's Messages API: HTTP
  basic auth with the account SID and auth token, form fields To, From and Body, a 201 with the
  message's JSON. Twilio's magic test number +15005550001 is refused as invalid (error 21211), as
  Twilio's test credentials do.
- `GET /_standin/messages` lists what was sent (tests read it; `make run` prints it).
- `POST /_standin/incoming` with `url`, `From` and `Body` (and optionally `MessageSid`) delivers an
  incoming text to the portal's webhook, form-encoded and signed with X-Twilio-Signature as Twilio
  signs (the twilio package's own RequestValidator), and answers with the portal's response.
- `POST /_standin/call` replays a call to the portal's payment line as Twilio Voice makes it:
  from the first webhook (`url`) it follows the TwiML, keys the caller's `keys` (a JSON list, one
  per <Gather>), and at <Pay> does what Twilio's Stripe connector does, charging `card` through
  the Stripe API (localstripe) and posting the result to the Pay action; `hang_up_at_pay` hangs
  up there instead, and running out of keys hangs up at that <Gather>. Each request is signed as
  Twilio signs; at the end the call-status callback (`status_url`) is told "completed". It
  answers with what the caller heard.
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
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

INVALID_NUMBER = "+15005550001"


class Store:
    def __init__(
        self, account_sid: str, auth_token: str, log_path: str | None, stripe_api_base="", stripe_key=""
    ):
        self.account_sid, self.auth_token, self.log_path = account_sid, auth_token, log_path
        self.stripe_api_base, self.stripe_key = stripe_api_base, stripe_key
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


def _stripe(store: Store, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (the Stripe API base given at start, http or https)
        store.stripe_api_base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {store.stripe_key}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def pay_connector(store: Store, *, card: str, amount: str) -> dict[str, str]:
    """What Twilio's Stripe connector does with the card a caller keys: a PaymentIntent confirmed
    with it, and the parameters Twilio then posts to the <Pay> action."""
    _, method = _stripe(
        store,
        "/v1/payment_methods",
        {"type": "card", "card": {"number": card, "exp_month": "12", "exp_year": "2031", "cvc": "123"}},
    )
    cents = int(Decimal(amount) * 100)  # <Pay>'s chargeAmount has two decimals
    status, intent = _stripe(
        store,
        "/v1/payment_intents",
        {"amount": cents, "currency": "usd", "payment_method": method.get("id"), "confirm": True},
    )
    if status == 200 and intent.get("status") == "succeeded":
        return {
            "Result": "success",
            "PaymentConfirmationCode": intent["id"],
            "PaymentCardNumber": "xxxx-xxxx-xxxx-" + card[-4:],
            "PaymentCardType": "visa" if card.startswith("4") else "mastercard",
            "ChargeAmount": amount,
        }
    error = intent.get("error") or intent.get("last_payment_error") or {}
    return {
        "Result": "payment-connector-error",
        "PaymentError": error.get("decline_code") or error.get("code") or "declined",
    }


def call_replay(
    store: Store, *, url: str, caller: str, keys: list[str], card: str, hang_up_at_pay: bool, status_url: str
) -> dict:
    base_params = {
        "CallSid": "CA" + secrets.token_hex(16),
        "AccountSid": store.account_sid,
        "From": caller,
        "To": "+15005550006",
        "Direction": "inbound",
        "CallStatus": "in-progress",
    }
    root_url = url.split("/voice/")[0]
    keys = list(keys)
    heard: list[str] = []
    params = {**base_params, "CallStatus": "ringing"}
    for _step in range(60):
        status, body = deliver_incoming(url=url, params=params, auth_token=store.auth_token)
        if status != 200:
            heard.append(f"[HTTP {status}]")
            break
        next_url = None
        for verb in ET.fromstring(body):  # noqa: S314 (the portal's own TwiML, from a local test server)
            if verb.tag == "Say":
                heard.append(verb.text or "")
            elif verb.tag == "Gather":
                heard.extend(say.text or "" for say in verb.findall("Say"))
                if not keys:
                    heard.append("[caller hung up]")
                    break
                next_url, params = root_url + verb.get("action"), {**base_params, "Digits": keys.pop(0)}
                break
            elif verb.tag == "Redirect":
                next_url, params = root_url + (verb.text or ""), dict(base_params)
                break
            elif verb.tag == "Pay":
                if hang_up_at_pay:
                    heard.append("[caller hung up before the card]")
                    break
                result = pay_connector(store, card=card, amount=verb.get("chargeAmount"))
                next_url, params = root_url + verb.get("action"), {**base_params, **result}
                break
            elif verb.tag == "Hangup":
                heard.append("[call ended]")
                break
        if next_url is None:
            break
        url = next_url
    if status_url:
        deliver_incoming(
            url=status_url, params={**base_params, "CallStatus": "completed"}, auth_token=store.auth_token
        )
    return {"sid": base_params["CallSid"], "heard": heard}


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
            if self.path == "/_standin/call":
                return self._reply(
                    200,
                    call_replay(
                        store,
                        url=form["url"],
                        caller=form.get("From", "+15035550199"),
                        keys=json.loads(form.get("keys", "[]")),
                        card=form.get("card", "4242424242424242"),
                        hang_up_at_pay=form.get("hang_up_at_pay") == "1",
                        status_url=form.get("status_url", ""),
                    ),
                )
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
    parser.add_argument("--stripe-api-base", default="", help="where <Pay> charges cards (localstripe)")
    parser.add_argument("--stripe-key", default="", help="the Stripe secret key <Pay>'s connector uses")
    args = parser.parse_args()
    store = Store(args.account_sid, args.auth_token, args.log, args.stripe_api_base, args.stripe_key)
    ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(store)).serve_forever()


if __name__ == "__main__":
    main()

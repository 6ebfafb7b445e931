"""Run localstripe on loopback with its state in a file of our choosing (or in memory).

localstripe pickles its whole store to a fixed /tmp path on every write, so two
instances on one machine would share state. This launcher points it elsewhere.

It also brings one test card closer to real Stripe: 4000002500003155 asks for the bank's check
(3-D Secure) once when it is set up with a SetupIntent, and not again for payments with the
card so set up (Stripe's documented behaviour); localstripe asked again on every payment.
4000002760003184 still asks on every payment, as it does on Stripe.
"""

import argparse
import pickle
from pathlib import Path

from aiohttp import web
from localstripe import resources

AUTHENTICATED_ONCE = "4000002500003155"


def _authenticate_once() -> None:
    confirm = resources.SetupIntent._api_confirm.__func__
    requires = resources.PaymentMethod._requires_authentication

    def setup_confirm(cls, id, **kwargs):
        intent = confirm(cls, id, **kwargs)
        if intent.status == "succeeded" and intent.payment_method:
            resources.PaymentMethod._api_retrieve(intent.payment_method)._set_up = True
        return intent

    def requires_authentication(self):
        if getattr(self, "_set_up", False) and getattr(self, "_card_number", "") == AUTHENTICATED_ONCE:
            return False
        return requires(self)

    original = resources.SetupIntent._api_confirm
    resources.SetupIntent._api_confirm = classmethod(setup_confirm)
    resources.PaymentMethod._requires_authentication = requires_authentication
    # The routes are taken from this list when localstripe's server module is first imported.
    resources.extra_apis[:] = [
        (method, url, resources.SetupIntent._api_confirm if func == original else func)
        for method, url, func in resources.extra_apis
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, help="keep objects in this file across restarts")
    args = parser.parse_args()

    def load(store):
        if args.state and args.state.exists():
            with args.state.open("rb") as handle:
                store.clear()
                store.update(pickle.load(handle))  # noqa: S301 (our own file)

    def dump(store):
        if args.state:
            with args.state.open("wb") as handle:
                pickle.dump(dict(store), handle, protocol=pickle.HIGHEST_PROTOCOL)

    _authenticate_once()
    from localstripe import server  # after the patch: it reads the routes when imported

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

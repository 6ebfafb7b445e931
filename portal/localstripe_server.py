"""Run localstripe on loopback with its state in a file of our choosing (or in memory).

localstripe pickles its whole store to a fixed /tmp path on every write, so two
instances on one machine would share state. This launcher points it elsewhere.
"""

import argparse
import pickle
from pathlib import Path

from aiohttp import web
from localstripe import resources, server


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

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

"""``python -m rathaus.payments.sandbox --port 8100``: serve the sandbox provider on 127.0.0.1.

``--port 0`` picks a free port; the first line on standard output names the address.
"""

from __future__ import annotations

import argparse
import contextlib
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from rathaus.payments.sandbox.server import SandboxApp, SandboxState


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    verbose = False

    def log_message(self, format: str, *args: object) -> None:
        if self.verbose:
            super().log_message(format, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rathaus.payments.sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--originator",
        action="append",
        default=[],
        metavar="ORIGINATOR:ENDPOINT[:USER:PASSWORD]",
        help="accept only these originator/endpoint pairs (default: accept any)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    originators = []
    for spec in args.originator:
        parts = spec.split(":", 3)
        if len(parts) not in {2, 4}:
            parser.error(
                "--originator needs ORIGINATOR:ENDPOINT or ORIGINATOR:ENDPOINT:USER:PASSWORD"
            )
        entry = {"originatorId": parts[0], "endPointId": parts[1]}
        if len(parts) == 4:
            entry.update(username=parts[2], password=parts[3])
        originators.append(entry)
    QuietHandler.verbose = args.verbose
    app = SandboxApp(SandboxState(originators))
    with make_server(
        args.host, args.port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    ) as server:
        port = server.server_port
        print(f"XBezahldienste sandbox listening on http://{args.host}:{port}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()

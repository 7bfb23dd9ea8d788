"""`python -m nurture.fakes.sendgrid`: run the fake SendGrid until interrupted (for `nurture dev` and by hand)."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path

from nurture.fakes import sendgrid
from nurture.fakes.sendgrid import DEFAULT_API_KEY, FakeSendGrid
from nurture.fakes.sendgrid_events import WebhookSigner
from nurture.logging import configure_logging


def main(argv: list[str] | None = None) -> None:
    """`python -m nurture.fakes.sendgrid`: serve until interrupted; prints one JSON line with url and keys."""
    parser = argparse.ArgumentParser(
        prog="python -m nurture.fakes.sendgrid", description=(sendgrid.__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3030)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--webhook-url", default=None, help="where signed events are posted")
    parser.add_argument("--auto-events", default="processed,delivered", help="posted for every accepted message")
    parser.add_argument("--key-file", type=Path, default=None, help="PEM private key; created if missing")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)  # logs go to stderr; stdout carries only the JSON line
    signer = WebhookSigner()
    if args.key_file is not None:
        if args.key_file.exists():
            signer = WebhookSigner.from_pem(args.key_file.read_bytes())
        else:
            args.key_file.parent.mkdir(parents=True, exist_ok=True)
            args.key_file.write_bytes(signer.private_key_pem())
            args.key_file.chmod(0o600)
    kinds = [k for k in args.auto_events.split(",") if k]
    fake = FakeSendGrid(
        api_key=args.api_key,
        webhook_url=args.webhook_url,
        host=args.host,
        port=args.port,
        signer=signer,
        auto_events=kinds,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with fake:
        print(json.dumps({**fake.info(), "env": fake.env()}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            done.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()

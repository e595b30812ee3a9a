"""A small webhook receiver (standard library only) that checks every delivery's signature.

    SWITCHBOARD_WEBHOOK_SECRET=<the secret shown when the webhook was created> \
        python sdk/python/examples/webhook_receiver.py [--port 9000]

Deliveries with a bad signature or a stale timestamp are answered 401 (Switchboard logs them as
failed and retries); good ones 204.
"""

from __future__ import annotations

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from switchboard_client import WebhookVerificationError, verify_webhook_signature

SECRET = os.environ["SWITCHBOARD_WEBHOOK_SECRET"]


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))  # the raw bytes, before parsing
        try:
            verify_webhook_signature(
                SECRET,
                self.headers.get("X-Switchboard-Timestamp", ""),
                body,
                self.headers.get("X-Switchboard-Signature", ""),
                tolerance_s=300,
            )
        except WebhookVerificationError as error:
            print(f"rejected delivery: {error.code}", flush=True)
            self.send_response(401)
            self.end_headers()
            return
        event = self.headers.get("X-Switchboard-Event")
        payload = json.loads(body)
        print(f"verified {event} delivery {self.headers.get('X-Switchboard-Delivery')}: {payload}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return  # one line per delivery above is enough


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9000)
    port = parser.parse_args().port
    server = HTTPServer(("127.0.0.1", port), WebhookHandler)
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()

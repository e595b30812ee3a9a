"""The HL7 engine's admin screens against real traffic: a channel made in the browser (its refusals
shown beside the fields), messages routed through it to a destination that is down, the blocked FIFO
queue (depth, head, why), pause / skip head / resume / retry now and what each does, and the last
hour's chart drawn from those messages. Screenshots at 1280 and 375 px, light and dark."""

from __future__ import annotations

import re
import socketserver
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import Account, LiveServer, shoot_themes
from tests.e2e.test_e2e_integrations import closed_port
from tools.hl7.ack import build_ack

pytestmark = pytest.mark.e2e

START, END = b"\x0b", b"\x1c\x0d"


class MllpReceiver:
    """A destination that answers AA to every message and records them in arrival order."""

    def __init__(self, port: int) -> None:
        self.received: list[str] = []
        receiver = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                buffer = b""
                while chunk := self.request.recv(65536):
                    buffer += chunk
                    while END in buffer:
                        frame, buffer = buffer.split(END, 1)
                        message = frame.lstrip(START).decode()
                        receiver.received.append(message)
                        self.request.sendall(START + build_ack(message, "AA").encode() + END)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def control_ids(self) -> list[str]:
        return [message.split("\r")[0].split("|")[9] for message in self.received]


@pytest.fixture
def down_destination(admin_account: Account, live_app: LiveServer) -> Iterator[tuple[str, int, list[MllpReceiver]]]:
    """An HL7 integration on a loopback port nothing listens on yet; a receiver started there is stopped after."""
    name = f"Ward feed {uuid.uuid4().hex[:6]}"
    port = closed_port()
    with live_app.api(admin_account) as api:
        created = api.post(
            "/integrations",
            json={
                "name": name,
                "integration_type": "hl7",
                "config": {"host": "127.0.0.1", "port": port, "timeout_s": 1},
            },
        )
        assert created.status_code == 201, created.text
    started: list[MllpReceiver] = []
    yield name, port, started
    for receiver in started:
        receiver.stop()


def _adt(app: str, control_id: str) -> str:
    msh = f"MSH|^~\\&|{app}|HOSP|EMR|ADT|20250101120000||ADT^A01|{control_id}|P|2.5.1"
    return f"{msh}\rPID|1||PAT-{control_id}||DOE^JANE"


def _queue(live_app: LiveServer, admin: Account, name: str) -> dict[str, Any]:
    with live_app.api(admin) as api:
        queues = api.get("/hl7/queues").json()
    found = [q for q in queues if q["destination"] == name]
    assert found, queues
    return dict(found[0])


def _wait_for_long_backoff(live_app: LiveServer, admin: Account, name: str, seconds: float = 5.0) -> None:
    """Until the blocked head's next automatic attempt is at least `seconds` away (so "Retry now" is what sends it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        head = _queue(live_app, admin, name)["head"]
        if head and head["status"] == "retrying":
            wait = datetime.fromisoformat(head["next_attempt_at"]) - datetime.now(UTC)
            if wait.total_seconds() >= seconds:
                return
        time.sleep(0.2)
    raise AssertionError(f"the head never backed off {seconds} s: {head}")


def test_channel_queue_actions_and_traffic_chart(
    admin_page: Page,
    admin_account: Account,
    live_app: LiveServer,
    down_destination: tuple[str, int, list[MllpReceiver]],
) -> None:
    destination, port, started = down_destination
    app = f"WARD{uuid.uuid4().hex[:6].upper()}"
    channel = f"Ward ADT {app}"
    page = admin_page

    # A channel made in the form; the server's refusals land beside the fields they are about.
    page.goto("/admin")
    page.get_by_role("link", name="HL7 channels").click()
    channels = page.get_by_test_id("admin-channels")
    channels.get_by_role("button", name="+ New channel").click()
    form = page.get_by_role("form", name="New channel")
    form.get_by_role("button", name="Create channel").click()
    expect(form.get_by_text("A name is required.")).to_be_visible()
    expect(form.get_by_text("Pick at least one destination.")).to_be_visible()
    form.get_by_label("Name").fill(channel)
    form.get_by_label("MLLP listener (inbound)").uncheck()
    form.get_by_label("Message types").fill("ADT^^")
    form.get_by_label("Sending applications").fill(app)
    form.get_by_label(destination).check()
    form.get_by_role("button", name="+ Add step").click()
    form.get_by_label("Step 1 path").fill("MSH-5")
    form.get_by_label("Step 1 value").fill("WARD")
    form.get_by_role("button", name="+ Add step").click()
    form.get_by_label("Step 2 operation").select_option("delete")
    form.get_by_label("Step 2 path").fill("PID19")
    form.get_by_role("button", name="Create channel").click()
    types_error = form.locator("#channel-filter-message_types-error")
    expect(types_error).to_contain_text("not a valid message type pattern")
    expect(form.get_by_label("Message types")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#step-1-error")).to_contain_text("not an HL7 path")
    expect(form.locator("#step-0-error")).to_have_count(0)
    expect(form.get_by_role("alert").first).to_contain_text("Check the fields marked below.")
    # The keyboard lands on the first field to fix.
    expect(form.get_by_label("Message types")).to_be_focused()
    form.get_by_label("Sending applications").scroll_into_view_if_needed()
    shoot_themes(page, "admin-hl7-channel-errors")
    form.get_by_label("Message types").fill("ADT^A0*")
    form.get_by_label("Step 2 path").fill("PID-19")
    form.get_by_role("button", name="Create channel").click()
    expect(form).to_be_hidden()
    card = channels.get_by_role("listitem", name=channel)
    expect(card).to_contain_text("ADT^A0* from " + app)
    expect(card).to_contain_text("set MSH-5 = WARD; delete PID-19")
    expect(card).to_contain_text(destination)
    expect(card.locator(".badge").first).to_have_text("enabled")

    # Edit: the stored values come back into the form; a change is saved.
    card.get_by_role("button", name=f"Edit {channel}").click()
    edit = page.get_by_role("form", name=f"Edit {channel}")
    expect(edit.get_by_label("Message types")).to_have_value("ADT^A0*")
    expect(edit.get_by_label(destination)).to_be_checked()
    expect(edit.get_by_label("MLLP listener (inbound)")).not_to_be_checked()
    edit.get_by_label("Versions").fill("2.5*")
    edit.get_by_role("button", name="Save channel").click()
    expect(edit).to_be_hidden()
    expect(card).to_contain_text("v2.5*")
    # Disable and enable again.
    card.get_by_role("button", name=f"Disable {channel}").click()
    expect(card.locator(".badge").first).to_have_text("disabled")
    card.get_by_role("button", name=f"Enable {channel}").click()
    expect(card.locator(".badge").first).to_have_text("enabled")
    card.scroll_into_view_if_needed()
    shoot_themes(page, "admin-hl7-channels")

    # Four messages without a destination: the channel routes them to the destination, which is down.
    ids = {}
    with live_app.api(admin_account) as api:
        for n in range(1, 5):
            accepted = api.post("/messages", json={"message": _adt(app, f"W{n}"), "metadata": {"source": "e2e"}})
            assert accepted.status_code == 202, accepted.text
            # The demo install's own ADT channel takes them too; ours sends them to the ward feed.
            assert channel in accepted.json()["channels"] and destination in accepted.json()["destinations"]
            ids[f"W{n}"] = accepted.json()["message_id"]

    page.get_by_role("link", name="HL7 queues").click()
    queue = page.get_by_role("listitem", name=f"Queue of {destination}")
    expect(queue).to_have_attribute("data-state", "blocked", timeout=15_000)
    expect(queue.get_by_test_id("queue-depth")).to_have_text("4")
    head = queue.get_by_test_id("queue-head")
    expect(head).to_contain_text("W1")
    expect(head).to_contain_text("ADT^A01")
    expect(queue.get_by_test_id("queue-why")).to_contain_text(re.compile("failed .* time", re.I))
    expect(queue.get_by_test_id("queue-age")).not_to_have_text("—")
    # The stuck queue is listed first.
    expect(page.get_by_test_id("queue-row").first).to_have_attribute("aria-label", f"Queue of {destination}")
    queue.scroll_into_view_if_needed()
    shoot_themes(page, "admin-hl7-queue-blocked")

    # Pause, then skip the head (asked first; the first answer is No), then resume.
    queue.get_by_role("button", name=f"Pause {destination}").click()
    expect(queue).to_have_attribute("data-state", "paused")
    expect(queue.get_by_test_id("queue-why")).to_contain_text(f"Paused by {admin_account.username}")
    queue.get_by_role("button", name=f"Skip the head of {destination}").click()
    ask = queue.get_by_role("group", name=re.compile("^Skip W1\\?"))
    ask.get_by_role("button", name="Cancel").click()
    expect(queue.get_by_test_id("queue-depth")).to_have_text("4")
    queue.get_by_role("button", name=f"Skip the head of {destination}").click()
    queue.get_by_role("group", name=re.compile("^Skip W1\\?")).get_by_role("button", name="Confirm").click()
    expect(queue.get_by_test_id("queue-depth")).to_have_text("3")
    expect(head).to_contain_text("W2")
    expect(page.get_by_test_id("queue-notice")).to_contain_text(f"Skipped the head on {destination}")
    queue.get_by_role("button", name=f"Resume {destination}").click()
    expect(queue).to_have_attribute("data-state", re.compile("blocked|draining|sending"))

    # The destination comes back while the head waits out a long back-off: "Retry now" sends it at once,
    # and the rest follow in order.
    _wait_for_long_backoff(live_app, admin_account, destination)
    receiver = MllpReceiver(port)
    receiver.start()
    started.append(receiver)
    queue.get_by_role("button", name=f"Retry the head of {destination} now").click()
    expect(queue.get_by_test_id("queue-depth")).to_have_text("0", timeout=4_000)
    expect(queue).to_have_attribute("data-state", "empty")
    assert receiver.control_ids() == ["W2", "W3", "W4"], receiver.control_ids()
    # The channel's transform ran before sending: MSH-5 set, PID-19 deleted (it was empty anyway).
    assert all(message.split("\r")[0].split("|")[4] == "WARD" for message in receiver.received), receiver.received
    with live_app.api(admin_account) as api:
        states = {
            cid: {d["system"]: d["status"] for d in api.get(f"/messages/{ids[cid]}").json()["destinations"]}
            for cid in ("W1", "W4")
        }
    assert states["W1"][destination] == "skipped" and states["W4"][destination] == "delivered", states

    # The chart of the last hour draws this traffic: AA bars, the no-ACK outcome of the skipped head,
    # and the received line.
    traffic = page.get_by_test_id("hl7-traffic")
    traffic.get_by_role("button", name="Refresh traffic chart").click()
    chart = page.get_by_test_id("hl7-traffic-chart")
    expect(chart.locator('[data-testid="chart-bar"][data-series="AA"]').first).to_be_visible()
    expect(chart.locator('[data-testid="chart-bar"][data-series="none"]').first).to_be_visible()
    expect(chart.get_by_test_id("chart-line")).to_have_attribute("d", re.compile("^M"))
    expect(chart.get_by_test_id("chart-dot").first).to_be_attached()
    expect(chart).to_contain_text(re.compile(r"[1-9]\d* received"))
    expect(chart).to_contain_text(re.compile(r"[1-9]\d* AA"))
    shoot_themes(page, "admin-hl7-queues-traffic")

"""Tool cards and approvals in the browser, on the demo HL7 integrations (reads run, sends ask first)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import Account, LiveServer, shoot
from tests.e2e.test_e2e_chat import last_answer, start_chat, wait_answered

pytestmark = pytest.mark.e2e


# Our own MLLP listener stores what it receives, so the test can see exactly what was sent.
SEND = "Send this to Switchboard inbound listener: "


def adt(control_id: str, separator: str = "\n") -> str:
    """An ADT^A01 as pasted into the chat box (one segment a line); in tool arguments segments end in CR."""
    return f"MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|{control_id}|P|2.5.1{separator}PID|1||PAT-9||DOE^JOHN"


def received_control_ids(live_app: LiveServer, account: Account) -> set[str]:
    """Control ids of the messages the server's inbound listener has received."""
    with live_app.api(account) as api:
        items = api.get("/messages", params={"size": 100, "direction": "inbound"}).json()["items"]
    return {str(item.get("control_id")) for item in items}


def test_a_read_tool_shows_a_card_from_running_to_completed(user_page: Page) -> None:
    page = user_page
    start_chat(page, "Explain this HL7 message: " + adt("CARD01"))
    card = page.get_by_test_id("tool-card").first
    expect(card).to_have_attribute("data-tool", "hl7_explain")
    expect(card).to_have_attribute("data-status", "completed", timeout=15_000)
    wait_answered(page)
    expect(last_answer(page)).to_contain_text("ADT^A01")
    # The header says what a person reads ("HL7 · explain"); the internal name is on hover and inside.
    header = card.get_by_role("button", name=re.compile("Tool HL7 \u00b7 explain: completed"))
    expect(header.locator(".tool-label")).to_have_attribute("title", "hl7_explain")
    expect(header).to_have_attribute("aria-expanded", "false")
    header.click()
    expect(header).to_have_attribute("aria-expanded", "true")
    expect(card.get_by_label("Tool arguments")).to_contain_text("CARD01")
    expect(card.get_by_test_id("tool-internal-name")).to_have_text("hl7_explain")
    expect(card.get_by_label("Tool result")).to_be_visible()
    shoot(page, "chat-tool-card")
    header.click()
    expect(card.get_by_label("Tool result")).to_be_hidden()


def test_approve_edit_and_reject_a_send(user_page: Page, user_account: Account, live_app: LiveServer) -> None:
    page = user_page
    start_chat(page, SEND + adt("REJECT1"))
    approval = page.get_by_test_id("approval-card")
    expect(approval).to_have_attribute("data-status", "pending", timeout=15_000)
    expect(approval).to_contain_text("switchboard_inbound_listener__send")
    expect(page.get_by_test_id("tool-card").first).to_contain_text("awaiting approval")
    expect(page.get_by_test_id("awaiting-approval")).to_be_visible()
    shoot(page, "chat-approval")

    # Reject with a reason: nothing is sent.
    approval.get_by_test_id("approval-reject").click()
    approval.get_by_label("Reason for rejecting").fill("wrong patient")
    approval.get_by_test_id("approval-confirm-reject").click()
    expect(approval).to_have_attribute("data-status", "resolved")
    wait_answered(page)
    expect(approval.get_by_test_id("approval-outcome")).to_contain_text("Decision")
    assert "REJECT1" not in received_control_ids(live_app, user_account)

    # Edit the arguments: the edited message is what goes out.
    box = page.get_by_label("Message", exact=True)
    box.fill(SEND + adt("EDITME1"))
    box.press("Enter")
    approval = page.get_by_test_id("approval-card").last
    expect(approval).to_have_attribute("data-status", "pending", timeout=15_000)
    approval.get_by_test_id("approval-edit").click()
    # The arguments are a form from the tool's schema: the message is a labelled field, not JSON.
    args = approval.get_by_test_id("approval-form").get_by_label("Message")
    args.fill("")
    expect(approval.get_by_text("Message is required.")).to_be_visible()
    expect(approval.get_by_test_id("approval-submit-edit")).to_be_disabled()
    args.fill(adt("EDITED1"))
    approval.get_by_test_id("approval-submit-edit").click()
    expect(approval).to_have_attribute("data-status", "resolved", timeout=15_000)
    wait_answered(page)
    card = page.get_by_test_id("tool-card").last
    expect(card).to_have_attribute("data-status", "completed")
    expect(last_answer(page)).to_contain_text("accepted")

    # Approve as proposed.
    box.fill(SEND + adt("APPROVE1"))
    box.press("Enter")
    approval = page.get_by_test_id("approval-card").last
    expect(approval).to_have_attribute("data-status", "pending", timeout=15_000)
    approval.get_by_test_id("approval-approve").click()
    wait_answered(page)
    expect(page.get_by_test_id("tool-card").last).to_have_attribute("data-status", "completed")
    deadline = time.monotonic() + 10
    sent = received_control_ids(live_app, user_account)
    while not {"EDITED1", "APPROVE1"} <= sent and time.monotonic() < deadline:
        time.sleep(0.2)
        sent = received_control_ids(live_app, user_account)
    assert {"EDITED1", "APPROVE1"} <= sent, sent
    assert "EDITME1" not in sent and "REJECT1" not in sent

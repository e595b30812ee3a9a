"""Integrations in the browser: list with type and status, form from the type's schema, test, delete."""

from __future__ import annotations

import re
import socket

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import Account, LiveServer, shoot

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_create_test_and_delete_an_integration(user_page: Page, user_account: Account, live_app: LiveServer) -> None:
    page = user_page
    page.goto("/integrations")
    demo = page.get_by_role("listitem", name="Demo HL7 receiver")
    expect(demo).to_be_visible()
    expect(demo.locator(".type-icon")).to_have_text("HL7")
    expect(demo).to_contain_text("hl7 · shared")
    shoot(page, "integrations-list")

    # The demo receiver answers: every step passes and the latency is shown.
    demo.get_by_role("button", name="Test connection of Demo HL7 receiver").click()
    result = demo.get_by_test_id("test-result")
    expect(result).to_have_attribute("data-ok", "true", timeout=15_000)
    expect(result).to_contain_text(re.compile(r"Connection OK in \d+ ms"))
    expect(result.get_by_test_id("test-step")).not_to_have_count(0)
    expect(result.locator("[data-testid=test-step][data-ok=false]")).to_have_count(0)
    shoot(page, "integration-test-ok")

    page.get_by_role("button", name="+ Add integration").click()
    form = page.get_by_role("form", name="New integration")
    form.get_by_label("Type").select_option("hl7")
    # A user cannot share an integration with everyone; only "private" is offered.
    expect(form.get_by_label("Visibility").locator("option")).to_have_count(1)
    shoot(page, "integration-form")
    form.get_by_role("button", name="Create integration").click()
    expect(form.get_by_role("alert")).to_contain_text("Name is required")
    form.get_by_label("Name").fill("Lab router")
    form.get_by_role("textbox", name="Host", exact=True).fill("127.0.0.1")
    form.get_by_role("spinbutton", name="Port", exact=True).fill("0")
    form.get_by_role("button", name="Create integration").click()
    expect(form).to_contain_text("Port must be at least 1")
    form.get_by_role("spinbutton", name="Port", exact=True).fill(str(closed_port()))
    form.get_by_role("button", name="Create integration").click()
    expect(form).to_be_hidden()

    item = page.get_by_role("listitem", name="Lab router")
    expect(item).to_contain_text("untested")
    item.get_by_role("button", name="Test connection of Lab router").click()
    failed = item.get_by_test_id("test-result")
    expect(failed).to_have_attribute("data-ok", "false", timeout=15_000)
    expect(failed).to_contain_text("Connection failed")
    expect(failed.locator("[data-testid=test-step][data-ok=false]")).to_have_count(1)
    error = failed.get_by_role("alert").inner_text()
    assert "Traceback" not in error and len(error) > 10, error
    expect(failed).to_contain_text("How to fix:")
    shoot(page, "integration-test-failed")

    # Editing keeps the type fixed and shows the stored values.
    item.get_by_role("button", name="Edit Lab router").click()
    edit = page.get_by_role("form", name="Edit Lab router")
    expect(edit.get_by_label("Type")).to_be_disabled()
    expect(edit.get_by_role("textbox", name="Host", exact=True)).to_have_value("127.0.0.1")
    edit.get_by_role("button", name="Cancel").click()

    # Delete asks first.
    item.get_by_role("button", name="Delete Lab router").click()
    item.get_by_role("group", name="Delete Lab router?").get_by_role("button", name="Cancel").click()
    expect(item).to_be_visible()
    item.get_by_role("button", name="Delete Lab router").click()
    item.get_by_role("group", name="Delete Lab router?").get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("listitem", name="Lab router")).to_have_count(0)
    with live_app.api(user_account) as api:
        names = [i["name"] for i in api.get("/integrations").json()["items"]]
    assert "Lab router" not in names


def test_a_user_cannot_change_shared_integrations(user_page: Page) -> None:
    page = user_page
    page.goto("/integrations")
    demo = page.get_by_role("listitem", name="Demo HL7 receiver")
    expect(demo.get_by_role("button", name="Test connection of Demo HL7 receiver")).to_be_visible()
    expect(demo.get_by_role("button", name="Delete Demo HL7 receiver")).to_have_count(0)
    expect(demo.get_by_role("button", name="Edit Demo HL7 receiver")).to_have_count(0)

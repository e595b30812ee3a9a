"""The theme follows the system's light/dark setting; the app works from the keyboard alone."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.support import DESKTOP, Account, LiveServer, shoot, sign_in_context

pytestmark = pytest.mark.e2e


def background_luminance(page: Page) -> float:
    """Relative luminance (0 black … 1 white) of the page background."""
    rgb = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", rgb)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_theme_follows_the_system(
    browser: Browser, live_app: LiveServer, user_account: Account, scheme: Literal["light", "dark"]
) -> None:
    context = browser.new_context(base_url=live_app.url, viewport=DESKTOP, color_scheme=scheme)
    try:
        sign_in_context(context, live_app, user_account)
        page = context.new_page()
        page.goto("/chat")
        expect(page.get_by_test_id("empty-state")).to_be_visible()
        luminance = background_luminance(page)
        if scheme == "dark":
            assert luminance < 0.2, luminance
            shoot(page, "chat-empty-dark")
        else:
            assert luminance > 0.8, luminance
    finally:
        context.close()


def focused(page: Page) -> str:
    return str(
        page.evaluate(
            "(() => { const el = document.activeElement;"
            " return el ? (el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent || '').trim()"
            " : ''; })()"
        )
    )


def tab_until(page: Page, name: str, limit: int = 40) -> list[str]:
    """Press Tab until the control named `name` has focus; the names passed on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        current = focused(page)
        seen.append(current)
        if current == name:
            return seen
    raise AssertionError(f"{name!r} was not reachable with Tab; focus went through {seen}")


def test_sign_in_and_chat_with_the_keyboard_only(browser: Browser, live_app: LiveServer, user_account: Account) -> None:
    context = browser.new_context(base_url=live_app.url, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        tab_until(page, "Username or email")
        page.keyboard.type(user_account.username)
        page.keyboard.press("Tab")
        page.keyboard.type(user_account.password)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("current-user")).to_have_text(user_account.username)

        page.goto("/chat")
        expect(page.get_by_test_id("empty-state")).to_be_visible()
        passed = tab_until(page, "Message")
        assert passed[0] == "Skip to content", passed
        assert "Search chats" in passed and "Integrations" in passed
        # The focused control is visibly marked.
        outline = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
        assert outline and outline != "none", outline
        page.keyboard.type("hello")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
        expect(page.get_by_test_id("message-assistant").last).to_have_attribute("data-streaming", "false")
        # Regenerate is reachable and works from the keyboard.
        tab_until(page, "Regenerate answer", limit=60)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("message-assistant").last).to_contain_text("Hello! I'm Switchboard")
    finally:
        context.close()

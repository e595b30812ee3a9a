"""Helpers the browser tests share: accounts, signing a browser context in, screenshots at two widths."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 812}
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path

    def api(self, account: Account | None = None) -> httpx.Client:
        """An HTTP client on the live API, signed in as `account` when given."""
        headers = {"Authorization": f"Bearer {account.access_token(self)}"} if account else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=15)


@dataclass(frozen=True)
class Account:
    username: str
    password: str = PASSWORD
    # One sign-in per account for the whole run (password hashing is slow on purpose); its access
    # token outlives the suite, so no tab ever needs to rotate the shared refresh token.
    _signed_in: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    def tokens(self, server: LiveServer) -> dict[str, Any]:
        """A fresh sign-in."""
        response = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"username": self.username, "password": self.password}, timeout=15
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def session_tokens(self, server: LiveServer) -> dict[str, Any]:
        """The run's sign-in, made on first use."""
        if server.url not in self._signed_in:
            self._signed_in[server.url] = self.tokens(server)
        return self._signed_in[server.url]

    def access_token(self, server: LiveServer) -> str:
        return str(self.session_tokens(server)["access_token"])


def register_via_api(server: LiveServer, username: str) -> Account:
    response = httpx.post(
        f"{server.url}/api/v1/auth/register",
        json={"email": f"{username}@example.com", "username": username, "password": PASSWORD},
        timeout=15,
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "user"
    return Account(username)


def register_first_admin(browser: Browser, server: LiveServer) -> Account:
    """Sign up through the form as the very first user, and check the app treats them as the admin."""
    context = browser.new_context(base_url=server.url, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto("/")
        # An empty install opens on the administrator's account, saying what it can do.
        expect(page.get_by_role("heading", name="Create the administrator account")).to_be_visible()
        expect(page.get_by_test_id("setup-note")).to_contain_text("administrator")
        expect(page.get_by_role("button", name="Create one")).to_have_count(0)
        page.get_by_label("Email").fill("ada@example.com")
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        shoot_themes(page, "setup-admin")
        page.get_by_role("button", name="Create administrator").click()
        expect(page.get_by_test_id("current-user")).to_have_text("ada")
        expect(page.get_by_role("link", name="Admin")).to_be_visible()
        # Afterwards, the normal sign-in.
        other = browser.new_page(base_url=server.url, viewport=DESKTOP)
        other.goto("/")
        expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
        shoot(other, "login")
        other.get_by_role("button", name="Create one").click()
        expect(other.get_by_role("heading", name="Create an account")).to_be_visible()
        shoot(other, "register")
        other.close()
    finally:
        context.close()
    return Account("ada")


def sign_in_context(context: BrowserContext, server: LiveServer, account: Account) -> None:
    """Put the account's tokens where the app keeps them, once per tab (signing out then sticks)."""
    tokens = account.session_tokens(server)
    access, refresh = json.dumps(tokens["access_token"]), json.dumps(tokens["refresh_token"])
    lifetime_ms = int(tokens["expires_in"]) * 1000
    context.add_init_script(
        "if (!sessionStorage.getItem('e2e-signed-in')) {"
        " localStorage.setItem('switchboard.auth', JSON.stringify("
        f"{{accessToken: {access}, refreshToken: {refresh}, expiresAt: Date.now() + {lifetime_ms}}}));"
        " sessionStorage.setItem('e2e-signed-in', '1'); }"
    )


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0 = no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


# Every visible control must have a name a screen reader can announce.
_UNLABELLED_JS = """() => {
  const named = (el) => {
    if ((el.getAttribute('aria-label') || '').trim()) return true;
    const by = el.getAttribute('aria-labelledby');
    if (by && by.split(/\\s+/).some((id) => (document.getElementById(id)?.textContent || '').trim())) return true;
    if (el.labels && [...el.labels].some((label) => label.textContent.trim())) return true;
    if ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim()) return true;
    return Boolean((el.getAttribute('title') || '').trim());
  };
  return [...document.querySelectorAll('input, select, textarea, button, a[href]')]
    .filter((el) => el.type !== 'hidden' && el.getClientRects().length > 0 && !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
}"""


def unlabelled_controls(page: Page) -> list[str]:
    found: list[str] = page.evaluate(_UNLABELLED_JS)
    return found


def shoot(page: Page, name: str) -> None:
    """Save the screen at desktop and 375 px widths; fail if it scrolls sideways at 375 px or a
    visible control has no accessible name."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    unlabelled = unlabelled_controls(page)
    assert not unlabelled, f"{name}: controls without a label: {unlabelled}"
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(50)
    page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png")
    page.set_viewport_size(MOBILE)
    page.wait_for_timeout(100)
    overflow = horizontal_overflow(page)
    page.screenshot(path=SCREENSHOTS / f"{name}-375.png")
    page.set_viewport_size(DESKTOP)
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow} px at 375 px wide"


def shoot_themes(page: Page, name: str) -> None:
    """`shoot` in the light theme, then again as `<name>-dark` with the system set to dark."""
    shoot(page, name)
    page.emulate_media(color_scheme="dark")
    try:
        shoot(page, f"{name}-dark")
    finally:
        page.emulate_media(color_scheme="light")

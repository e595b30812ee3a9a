"""The SSRF guard through the API: integrations and webhooks refuse private targets when saved, refuse
them again at call time when DNS changed its answer (rebinding), never follow a redirect to a host the
guard did not check, and the allow-list opens exactly what it names."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from backend.config import Settings
from tests.conftest import asgi_client, running_app
from tests.security.conftest import closed_port
from tests.security.servers import LoopbackHttp
from tools.net import IPAddress

PRIVATE_URLS = [
    "http://10.1.2.3/",
    "http://172.16.0.9/",
    "http://192.168.1.1/",
    "http://127.0.0.1:8000/",
    "http://localhost:8000/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://0xa9fea9fe/",  # 169.254.169.254 in hex
    "http://[2002:a9fe:a9fe::]/",  # 6to4 wrapping 169.254.169.254
    "http://100.64.0.1/",  # carrier-grade NAT space: not public either
]


async def _user(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    body = {"email": f"{name}@example.com", "username": name, "password": "correct horse battery"}
    assert (await http.post("/api/v1/auth/register", json=body)).status_code == 201
    login = await http.post("/api/v1/auth/login", json={"username": name, "password": body["password"]})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _jira(url: str) -> dict[str, Any]:
    return {
        "name": f"jira {url}"[:100],
        "integration_type": "jira",
        "config": {"base_url": url.rstrip("/"), "deployment": "cloud"},
        "credentials": {"email": "a@example.com", "api_token": "t"},
    }


def _emr(url: str) -> dict[str, Any]:
    return {"name": f"emr {url}"[:100], "integration_type": "emr", "config": {"base_url": url.rstrip("/") + "/fhir"}}


def _hook(url: str) -> dict[str, Any]:
    return {"name": "hook", "url": url.rstrip("/") + "/hook", "events": ["*"]}


@pytest.fixture
async def closed(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient, dict[str, str]]]:
    """The app with the default policy: public addresses only."""
    async with running_app(settings) as app, asgi_client(app) as http:
        yield app, http, await _user(http, "alice")


async def test_private_targets_are_refused_when_saved(closed: tuple[Any, httpx.AsyncClient, dict[str, str]]) -> None:
    _, http, alice = closed
    accepted: list[str] = []
    for url in PRIVATE_URLS:
        for path, body in (
            ("/api/v1/integrations", _jira(url)),
            ("/api/v1/integrations", _emr(url)),
            ("/api/v1/webhooks", _hook(url)),
        ):
            response = await http.post(path, json=body, headers=alice)
            if response.status_code != 422 or response.json()["code"] != "outbound_blocked":
                accepted.append(f"{path} {url}: {response.status_code} {response.text[:120]}")
        host = urlsplit(url).hostname
        hl7 = {"name": "lis", "integration_type": "hl7", "config": {"host": host, "port": 2575}}
        response = await http.post("/api/v1/integrations", json=hl7, headers=alice)
        if response.status_code != 422 or response.json()["code"] != "outbound_blocked":
            accepted.append(f"hl7 {host}: {response.status_code} {response.text[:120]}")
    assert accepted == []


class Rebinding:
    """A DNS server in a function: public while the target is saved, private once `flip()` is called."""

    def __init__(self) -> None:
        self.answer: IPAddress = ipaddress.ip_address("93.184.216.34")
        self.asked: list[str] = []

    def flip(self) -> None:
        self.answer = ipaddress.ip_address("169.254.169.254")

    async def __call__(self, name: str, port: int | None) -> list[IPAddress]:
        self.asked.append(name)
        return [self.answer]


async def test_dns_rebinding_is_refused_at_call_time(closed: tuple[Any, httpx.AsyncClient, dict[str, str]]) -> None:
    app, http, alice = closed
    dns = Rebinding()
    ctx = app.state.ctx
    ctx.outbound = dataclasses.replace(ctx.outbound, resolver=dns)
    name = "http://rebind.invalid"  # .invalid: if the guard ever let it through, nothing would resolve
    ids = []
    for body in (
        _jira(name),
        _emr(name),
        {"name": "lis", "integration_type": "hl7", "config": {"host": "rebind.invalid", "port": 2575}},
    ):
        created = await http.post("/api/v1/integrations", json=body, headers=alice)
        assert created.status_code == 201, created.text  # public at save time
        ids.append(created.json()["id"])
    hook = await http.post("/api/v1/webhooks", json=_hook(name.replace("http:", "https:")), headers=alice)
    assert hook.status_code == 201, hook.text
    dns.flip()
    asked_before = len(dns.asked)
    for integration_id in ids:
        result = (await http.post(f"/api/v1/integrations/{integration_id}/test", headers=alice)).json()
        assert result["ok"] is False
        assert result["error_code"] == "outbound_blocked", result
    delivery = (await http.post(f"/api/v1/webhooks/{hook.json()['id']}/test", headers=alice)).json()
    assert delivery["status"] == "failed" and delivery["error"].startswith("outbound_blocked"), delivery
    assert len(dns.asked) > asked_before  # each call asked DNS again instead of trusting the saved answer


@pytest.fixture
def hidden() -> Iterator[LoopbackHttp]:
    """The redirect's target: 127.0.0.2, which the allow-list (127.0.0.1 only) does not name."""
    server = LoopbackHttp(host="127.0.0.2").start()
    yield server
    server.stop()


@pytest.fixture
def redirector(hidden: LoopbackHttp) -> Iterator[LoopbackHttp]:
    server = LoopbackHttp(status=302, location=hidden.url).start()
    yield server
    server.stop()


async def test_redirects_to_unchecked_hosts_are_not_followed(
    settings: Settings, redirector: LoopbackHttp, hidden: LoopbackHttp
) -> None:
    config = settings.model_copy(update={"outbound_allowlist": ["127.0.0.1"], "webhook_max_attempts": 1})
    async with running_app(config) as app, asgi_client(app) as http:
        alice = await _user(http, "alice")
        for body in (_jira(redirector.url), _emr(redirector.url)):
            created = await http.post("/api/v1/integrations", json=body, headers=alice)
            assert created.status_code == 201, created.text
            result = (await http.post(f"/api/v1/integrations/{created.json()['id']}/test", headers=alice)).json()
            assert result["ok"] is False, result
        hook = await http.post("/api/v1/webhooks", json=_hook(redirector.url), headers=alice)
        delivery = (await http.post(f"/api/v1/webhooks/{hook.json()['id']}/test", headers=alice)).json()
        assert delivery["status"] == "failed" and "redirect" in delivery["error"], delivery
    assert redirector.hits, "the clients never reached the redirecting server: the test proves nothing"
    assert hidden.hits == [], "a client followed a redirect to a host the outbound guard never checked"


async def test_allowlist_opens_exactly_what_it_names(settings: Settings) -> None:
    port = closed_port()
    config = settings.model_copy(update={"outbound_allowlist": ["127.0.0.2", "10.20.0.0/16", "localhost"]})
    async with running_app(config) as app, asgi_client(app) as http:
        alice = await _user(http, "alice")
        allowed = [f"http://127.0.0.2:{port}", "http://10.20.30.40", f"http://localhost:{port}"]
        # The name `localhost` is allowed; its address spelled out is not (nor its neighbours).
        refused = [f"http://127.0.0.1:{port}", f"http://127.0.0.3:{port}", "http://10.21.0.1", "http://[::1]/"]
        for url in allowed:
            assert (await http.post("/api/v1/integrations", json=_emr(url), headers=alice)).status_code == 201, url
            assert (await http.post("/api/v1/webhooks", json=_hook(url), headers=alice)).status_code == 201, url
        for url in refused:
            response = await http.post("/api/v1/integrations", json=_emr(url), headers=alice)
            assert response.status_code == 422 and response.json()["code"] == "outbound_blocked", url
            response = await http.post("/api/v1/webhooks", json=_hook(url), headers=alice)
            assert response.status_code == 422 and response.json()["code"] == "outbound_blocked", url


async def test_demo_mode_allow_lists_exactly_its_sandboxes(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"demo_mode": True})) as app, asgi_client(app) as http:
        alice = await _user(http, "alice")
        demo = [
            i
            for i in (await http.get("/api/v1/integrations", headers=alice)).json()["items"]
            if i["visibility"] == "shared"
        ]
        assert {i["integration_type"] for i in demo} >= {"jira", "emr", "hl7"}
        for integration in demo:  # the sandboxes live on loopback: demo mode opens exactly their ports
            result = (await http.post(f"/api/v1/integrations/{integration['id']}/test", headers=alice)).json()
            assert result["ok"] is True, (integration["name"], result)
        # The rest of loopback stays closed: this machine's PostgreSQL and Redis listen there.
        for url in ("http://127.0.0.1:5432/", "http://127.0.0.1:6379/", "http://localhost:5432/"):
            response = await http.post("/api/v1/integrations", json=_emr(url), headers=alice)
            assert response.json()["code"] == "outbound_blocked", url
        for url in ("http://169.254.169.254/", "http://10.1.2.3/", "http://[fe80::1]/", "http://192.168.0.1/"):
            response = await http.post("/api/v1/integrations", json=_emr(url), headers=alice)
            assert response.json()["code"] == "outbound_blocked", url
            response = await http.post("/api/v1/webhooks", json=_hook(url), headers=alice)
            assert response.json()["code"] == "outbound_blocked", url


async def test_fhir_paging_links_to_unchecked_hosts_are_not_followed(settings: Settings, hidden: LoopbackHttp) -> None:
    # A FHIR server answers a search with one patient and a `next` link to a host the guard never allowed.
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "next", "url": f"{hidden.url}/fhir/Patient?page=2"}],
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe", "given": ["Jane"]}]}}
        ],
    }
    server = LoopbackHttp(body=json.dumps(bundle).encode()).start()
    try:
        config = settings.model_copy(update={"outbound_allowlist": ["127.0.0.1"]})
        async with running_app(config) as app, asgi_client(app) as http:
            alice = await _user(http, "alice")
            created = await http.post("/api/v1/integrations", json=_emr(server.url), headers=alice)
            assert created.status_code == 201, created.text
            search = await http.post(
                f"/api/v1/integrations/{created.json()['id']}/patients/search",
                json={"criteria": {"name": "doe"}},
                headers=alice,
            )
            assert search.status_code == 422 and search.json()["code"] == "outbound_blocked", search.text
    finally:
        server.stop()
    assert server.hits, "the FHIR client never reached the server: the test proves nothing"
    assert hidden.hits == [], "the FHIR client followed a paging link to a host the outbound guard never checked"

"""Two-factor login in real headless Chromium (DESIGN section 14), with the
browser's own WebAuthn and Chromium's virtual authenticator (over CDP):
register a passkey, log in with it alone, open sudo mode with it; set up an
authenticator app and log in with password and code, a replayed code
refused; a recovery code used once; a project that requires a second factor.

WebAuthn refuses IP-address origins: the app is served on 127.0.0.1 but the
browser goes to http://localhost:PORT, the relying party ``localhost``.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

import pyotp  # noqa: E402
import waitress  # noqa: E402
from sqlalchemy import select, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dragonhoard import application, main  # noqa: E402
from dragonhoard.cli.initdb import upgrade  # noqa: E402
from dragonhoard.models import AuditEvent, LoginSession, Project, get_engine  # noqa: E402

from .. import factories  # noqa: E402
from ..conftest import BASE_SETTINGS, ini_path  # noqa: E402
from ..mfa import give_totp  # noqa: E402
from .test_browser import (  # noqa: E402, F401 - browser is a fixture
    RECORD_CSP_VIOLATIONS,
    TIMEOUT_MS,
    PageProblems,
    browser,
)

pytestmark = pytest.mark.browser

VIRTUAL_AUTHENTICATOR = {"options": {"protocol": "ctap2", "transport": "internal",
                                     "hasResidentKey": True, "hasUserVerification": True,
                                     "isUserVerified": True}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a fresh SQLite file, on 127.0.0.1, for the origin http://localhost:PORT."""
    path = tmp_path_factory.mktemp("browser-mfa-db") / "dragonhoard.sqlite"
    url = f"sqlite:///{path}"
    engine = get_engine({"sqlalchemy.url": url})
    upgrade(ini_path(), engine)
    port = free_port()
    origin = f"http://localhost:{port}"
    app = main({}, **dict(BASE_SETTINGS, **{"sqlalchemy.url": url,
                                            "dragonhoard.webauthn.rp_id": "localhost",
                                            "dragonhoard.webauthn.origin": origin}))
    httpd = waitress.create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=httpd.run, name="waitress-mfa-browser-test", daemon=True)
    thread.start()
    try:
        yield {"origin": origin, "direct": f"http://127.0.0.1:{port}", "engine": engine}
    finally:
        httpd.close()
        thread.join(timeout=5)
        application.dispose(application.of(app.registry))
        engine.dispose()


@pytest.fixture
def dbsession(server):
    with Session(server["engine"]) as session:
        yield session


@pytest.fixture
def factory(dbsession):
    return factories.Factory(dbsession)


@pytest.fixture
def context(browser, server):  # noqa: F811
    context = browser.new_context(base_url=server["origin"])
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def problems(page):
    return PageProblems(page)


@pytest.fixture
def authenticator(context, page):
    """Chromium's virtual authenticator: a platform passkey with user verification."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send("WebAuthn.addVirtualAuthenticator", VIRTUAL_AUTHENTICATOR)
    yield cdp, found["authenticatorId"]
    cdp.send("WebAuthn.disable")


def at(server, path: str = "/") -> re.Pattern:
    return re.compile("^" + re.escape(server["origin"] + path) + r"(\?.*)?$")


def form_login(page, server, email: str, lands: str = "/") -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation(url=at(server, lands)):
        page.click("main form button[type=submit]")


def log_out(page, server) -> None:
    with page.expect_navigation(url=at(server, "/login")):
        page.click("header form[action='/logout'] button")


def unexpected(problems, *statuses: int) -> list[str]:
    """The page's errors, but for the refusals the test itself provokes."""
    expected = tuple(f"the server responded with a status of {status} " for status in statuses)
    return [m for m in problems.errors() if not any(e in m for e in expected)]


def events(dbsession, kind: str) -> list[AuditEvent]:
    dbsession.expire_all()
    return list(dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == kind)
                                  .order_by(AuditEvent.id)))


def test_a_passkey_registered_logs_in_alone_and_opens_sudo(page, problems, authenticator, factory,
                                                           dbsession, server):
    cdp, authenticator_id = authenticator
    user = factory.user()
    form_login(page, server, user.email)

    page.goto("/account/two-factor")
    page.fill("#webauthn-name", "Chromium's passkey")
    page.click("#add-webauthn")
    codes = page.locator("#webauthn-codes li")
    sync_api.expect(codes).to_have_count(10)
    sync_api.expect(page.locator("#webauthn-status")).to_have_text("“Chromium's passkey” is added.")
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]) == 1
    page.goto("/account/two-factor")
    sync_api.expect(page.locator("#webauthn-credentials")).to_contain_text("Chromium's passkey")
    sync_api.expect(page.locator("#webauthn-credentials")).to_contain_text("passkey")

    log_out(page, server)
    with page.expect_navigation(url=at(server, "/")):
        page.click("#passkey-login")
    assert page.locator("#dashboard").count() == 1
    [login] = [e for e in events(dbsession, "login:success") if e.details.get("method") == "passkey"]
    assert login.user_id == user.id

    # Sudo mode by the passkey: close the window, then ask for a token.
    dbsession.execute(update(LoginSession).where(LoginSession.user_id == user.id)
                      .values(sudo_until=datetime.now(UTC) - timedelta(minutes=1)))
    dbsession.commit()
    page.goto("/tokens")
    page.locator("form").nth(1).locator("#name").fill("after sudo")
    page.locator("form").nth(1).locator("button[type=submit]").click()
    sync_api.expect(page.locator("h1")).to_have_text("Confirm your password")
    with page.expect_navigation(url=at(server, "/tokens")):
        page.click("#sudo-webauthn")
    assert events(dbsession, "sudo:success")[-1].details["method"] == "webauthn"
    page.locator("form").nth(1).locator("#name").fill("after sudo")
    with page.expect_navigation():
        page.locator("form").nth(1).locator("button[type=submit]").click()
    sync_api.expect(page.locator("code#new-token")).to_have_text(re.compile(r"^\s*dhp_\S+\s*$"))

    assert problems.csp() == []
    assert unexpected(problems, 403) == []  # the sudo prompt


def code_for(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def second_step(page, server, method: str, code: str, lands: str = "/") -> None:
    if method == "recovery":
        page.click("#recovery summary")
    field = "#totp-code" if method == "totp" else "#recovery-code"
    page.fill(field, code)
    with page.expect_navigation(url=at(server, lands)):
        page.click(f"#{method}-form button[type=submit]")


def test_totp_then_a_replay_then_recovery_codes(page, problems, factory, dbsession, server):
    user = factory.user()
    form_login(page, server, user.email)
    page.goto("/account/two-factor")
    with page.expect_navigation():
        page.click("#start-totp button")
    secret = page.locator("#totp-secret").text_content().strip()
    assert page.locator("#totp-qr").get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert page.evaluate("document.getElementById('totp-qr').naturalWidth") > 0  # drawn under the CSP
    page.fill("#code", code_for(secret))
    with page.expect_navigation():
        page.click("#totp-confirm button")
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_text_contents()]
    assert len(codes) == 10
    log_out(page, server)

    # Password, then the next step's code (the enrolment used this one).
    code = code_for(secret, 1)
    form_login(page, server, user.email, lands="/login/two-factor")
    second_step(page, server, "totp", code)
    assert page.locator("#dashboard").count() == 1
    log_out(page, server)

    # The same code again: refused.
    form_login(page, server, user.email, lands="/login/two-factor")
    page.fill("#totp-code", code)
    with page.expect_navigation(url=at(server, "/login/two-factor")):
        page.click("#totp-form button[type=submit]")
    sync_api.expect(page.locator("p.error")).to_contain_text("not accepted")

    # A recovery code, once: the next page says how many are left.
    second_step(page, server, "recovery", codes[0])
    sync_api.expect(page.locator("p.flash")).to_contain_text("You used a recovery code: 9 codes left.")
    log_out(page, server)
    form_login(page, server, user.email, lands="/login/two-factor")
    page.click("#recovery summary")
    page.fill("#recovery-code", codes[0])
    with page.expect_navigation(url=at(server, "/login/two-factor")):
        page.click("#recovery-form button[type=submit]")
    sync_api.expect(page.locator("p.error")).to_contain_text("not accepted")
    assert [e.details["method"] for e in events(dbsession, "login:success")][-2:] == [
        "password+totp", "password+recovery"]

    assert problems.csp() == []
    assert unexpected(problems, 400) == []  # the refused codes


def bearer_get(server, path: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(server["direct"] + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_project_that_requires_a_second_factor(page, problems, factory, dbsession, server):
    owner = factory.user()
    give_totp(dbsession, owner)
    member = factory.user()
    project = factory.project(members={owner: "owner", member: "viewer"})
    treasure = factory.treasure(owner, project=project, name="Arkenstone")
    dbsession.execute(update(Project).where(Project.id == project.id).values(require_mfa=True))
    dbsession.commit()
    _row, token = factory.token(member, scopes=["treasure:read", "project:read"])

    form_login(page, server, member.email)
    for path in (f"/api/projects/{project.slug}", f"/api/treasures/{treasure.id}"):
        answer = page.goto(path)
        assert answer.status == 403 and answer.json()["error"] == "mfa_required"
        status, body = bearer_get(server, path, token)
        assert status == 403 and body["error"] == "mfa_required"

    page.goto("/account/two-factor")
    with page.expect_navigation():
        page.click("#start-totp button")
    secret = page.locator("#totp-secret").text_content().strip()
    page.fill("#code", code_for(secret))
    with page.expect_navigation():
        page.click("#totp-confirm button")

    answer = page.goto(f"/api/treasures/{treasure.id}")
    assert answer.status == 200 and answer.json()["name"] == "Arkenstone"
    status, body = bearer_get(server, f"/api/projects/{project.slug}", token)
    assert status == 200 and body["require_mfa"] is True

    assert problems.csp() == []
    assert unexpected(problems, 403) == []  # the refused API reads

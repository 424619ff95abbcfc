"""OAuth apps end to end (DESIGN section 15): real client libraries against
the live server, consent given in headless Chromium.

- The authorization code flow with PKCE (S256) through requests-oauthlib's
  ``OAuth2Session``, as a confidential third-party app uses it: the user
  narrows the scopes and picks one project of two on the consent page; the
  browser is sent to the app's redirect URI, a loopback HTTP server of the
  test's own (RFC 8252 section 7.3). The token then reaches what it was
  granted and nothing else; refresh rotates it; a refresh token presented
  again within 10 s gets the same answer, later it revokes the grant; the
  user revoking the app on /account/apps cuts it off.
- The device flow (RFC 8628) of a public app, with oauthlib's ``DeviceClient``.
- The refusals of RFC 6749 and RFC 7636: no client secret, an unregistered
  redirect URI, no code challenge, ``plain``, a code used twice.

The app is served by waitress on 127.0.0.1 over the run's database (SQLite,
and PostgreSQL when DRAGONHOARD_TEST_POSTGRES_URL is set); every request
goes to a loopback address. Chromium logs in once for the whole module.
Instead of sleeping through the 10 s refresh grace window and the device
flow's polling interval, the tests move the app's clock (``dragonhoard.clock``,
the one source of "now"; the server runs in this process) forward.
"""
from __future__ import annotations

import base64
import http.server
import queue
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("requests_oauthlib")

import requests  # noqa: E402
import waitress  # noqa: E402
from oauthlib.oauth2 import DeviceClient, OAuth2Error  # noqa: E402
from oauthlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError  # noqa: E402
from requests_oauthlib import OAuth2Session  # noqa: E402

from dragonhoard import clock as app_clock  # noqa: E402
from dragonhoard.services.oauth import REFRESH_GRACE  # noqa: E402

from .. import factories  # noqa: E402
from .test_browser import (  # noqa: E402, F401 - browser is a fixture
    RECORD_CSP_VIOLATIONS,
    TIMEOUT_MS,
    PageProblems,
    browser,
    log_in,
    phone_and_axe_problems,
)

pytestmark = pytest.mark.browser

#: What the code-flow app asks for; the user unchecks treasure:create.
REQUESTED = ["treasure:read", "treasure:create", "project:read", "user:read"]
UNCHECKED = "treasure:create"
GRANTED = sorted(set(REQUESTED) - {UNCHECKED})
#: How long the browser may take to land on the redirect URI.
REDIRECT_WAIT_MS = 8_000


# -- the world: the live server, the app's redirect target, the user --------


class Callback:
    """The apps' redirect URI: a loopback HTTP server that records the URL of
    every request to ``/callback`` and answers a small page."""

    def __init__(self) -> None:
        self.seen: queue.Queue[str] = queue.Queue()
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path.startswith("/callback"):
                    seen.put(f"http://127.0.0.1:{self.server.server_address[1]}{self.path}")
                body = b"<!doctype html><title>Connected</title><p>You may close this window."
                self.send_response(200 if self.path.startswith("/callback") else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/callback"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="oauth-callback",
                                       daemon=True)
        self.thread.start()

    def forget(self) -> None:
        while not self.seen.empty():
            self.seen.get_nowait()

    def received(self, timeout: float = 5) -> str:
        return self.seen.get(timeout=timeout)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@dataclass
class World:
    base: str
    metadata: dict
    callback: Callback
    factory: factories.Factory
    user: object
    granted: object  # the project the code-flow grant is restricted to
    other: object  # the user's other project
    in_granted: object  # a treasure in each
    in_other: object
    page: object = None
    problems: PageProblems | None = None
    clock: OffsetClock | None = None

    def url(self, path: str) -> str:
        return self.base + path


class OffsetClock:
    """The system clock, plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(app_clock.UTC) + self.offset

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture(scope="module")
def live(app_factory, database):
    """The run's test app (on the run's database) served by waitress on
    127.0.0.1:<free port>; the database is emptied after the module."""
    httpd = waitress.create_server(app_factory(), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=httpd.run, name="waitress-oauth-browser", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.effective_port}"
    finally:
        httpd.close()
        thread.join(timeout=5)
        database.clean()


@pytest.fixture(scope="module")
def world(live, database, browser):  # noqa: F811
    """The user (in two projects, a treasure in each), logged in once in Chromium."""
    callback = Callback()
    metadata = client().get(f"{live}/.well-known/oauth-authorization-server", timeout=10)
    assert metadata.status_code == 200, metadata.text
    with database.session_factory() as dbsession:
        factory = factories.Factory(dbsession)
        user = factory.user(username="thorin")
        granted = factory.project(slug="erebor", name="Erebor", members={user: "owner"})
        other = factory.project(slug="moria", name="Moria", members={user: "owner"})
        world = World(base=live, metadata=metadata.json(), callback=callback, factory=factory,
                      user=user, granted=granted, other=other,
                      in_granted=factory.treasure(user, project=granted, name="Arkenstone"),
                      in_other=factory.treasure(user, project=other, name="Durin's axe"))
        context = browser.new_context(base_url=live)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        try:
            world.page = context.new_page()
            world.problems = PageProblems(world.page)
            log_in(world.page, user.email)
            yield world
        finally:
            context.close()
            callback.close()


@pytest.fixture(autouse=True)
def environment(monkeypatch, world):
    """What a client on loopback sets: oauthlib refuses plain http otherwise
    (RFC 8252 section 8.3 allows it for loopback), and warns when the server
    grants fewer scopes than asked for (it says so in the token answer,
    RFC 6749 section 5.1). The app's clock is movable."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    world.clock = OffsetClock()
    app_clock.set_now(world.clock)
    yield
    app_clock.set_now(None)
    world.clock = None


# -- clients ------------------------------------------------------------------


def client(session: requests.Session | None = None) -> requests.Session:
    """A requests session that ignores proxy settings (loopback only) and
    keeps no connection open (the server stops at once after the module)."""
    session = session or requests.Session()
    session.trust_env = False
    session.headers["Connection"] = "close"
    return session


def code_flow_session(world: World, app, *, pkce: str | None = "S256",
                      scope=REQUESTED) -> OAuth2Session:
    oauth = client(OAuth2Session(app.client_id, redirect_uri=world.callback.url,
                                 scope=list(scope), pkce=pkce))
    oauth.answers = []  # every response, for the status codes the library hides
    oauth.hooks["response"].append(lambda response, *args, **kwargs: oauth.answers.append(response))
    return oauth


def new_app(world: World, **kw):
    app, secret = world.factory.oauth_app(world.user, redirect_uris=(world.callback.url,), **kw)
    return app, secret


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid_token(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def token_post(world: World, data: dict, *, auth=None) -> requests.Response:
    return client().post(world.metadata["token_endpoint"], data=data, auth=auth, timeout=10)


def consent_in_chromium(world: World, url: str, *, uncheck=(), projects: str = "all",
                        slugs=(), decision: str = "allow") -> str:
    """Open the authorization URL in the logged-in browser and, when asked,
    consent (scopes narrowed, projects chosen): the URL the browser was sent
    back to, as the app's redirect target received it."""
    page, callback = world.page, world.callback
    callback.forget()
    page.goto(url)
    if not page.url.startswith(callback.url):  # consented before: no second question
        form = page.locator("form#consent")
        sync_api.expect(form).to_have_count(1)
        for scope in uncheck:
            form.locator(f'input[name="granted_scope"][value="{scope}"]').uncheck()
        form.locator(f'input[name="projects"][value="{projects}"]').check()
        for box in form.locator('input[name="project"]').all():
            box.set_checked(box.get_attribute("value") in slugs)
        try:
            with page.expect_navigation(url=lambda u: u.startswith(callback.url),
                                        timeout=REDIRECT_WAIT_MS):
                form.locator(f'button[name="decision"][value="{decision}"]').click()
        except sync_api.Error as error:
            pytest.fail(f"{decision.title()} on the consent page did not reach the redirect URI "
                        f"({error.message.splitlines()[0]}); CSP: {world.problems.csp()}")
    received = callback.received()
    assert received == page.url
    return received


# -- 1. the authorization code flow with PKCE ----------------------------------


def test_code_flow_with_pkce_and_consent_in_chromium(world):
    app, secret = new_app(world, confidential=True, name="Hoard Organizer")
    oauth = code_flow_session(world, app)
    url, state = oauth.authorization_url(world.metadata["authorization_endpoint"])
    assert "code_challenge_method=S256" in url

    redirected = consent_in_chromium(world, url, uncheck=[UNCHECKED], projects="some",
                                     slugs=[world.granted.slug])
    assert query_of(redirected)["state"] == state
    assert world.problems.csp() == []

    # client_secret_basic: requests-oauthlib sends the id and secret in Basic.
    token = oauth.fetch_token(world.metadata["token_endpoint"], authorization_response=redirected,
                              client_secret=secret)
    exchange = oauth.answers[-1]
    assert exchange.request.headers["Authorization"].startswith("Basic ")
    assert "client_secret" not in exchange.request.body
    assert exchange.headers["Cache-Control"] == "no-store"
    assert token["access_token"].startswith("dho_")
    assert token["refresh_token"].startswith("dhr_")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert sorted(token["scope"]) == GRANTED
    # The server granted less than asked: a refresh may ask for no more
    # (RFC 6749 section 6), and the refusal leaves the refresh token good.
    broader = token_post(world, {"grant_type": "refresh_token", "scope": " ".join(REQUESTED),
                                 "refresh_token": token["refresh_token"]},
                         auth=(app.client_id, secret))
    assert broader.status_code == 400, broader.text
    assert broader.json()["error"] == "invalid_scope"
    oauth.scope = token["scope"]

    me = oauth.get(world.url("/api/me"), timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["auth"] == "oauth"
    assert me.json()["app"] == {"id": app.id, "name": "Hoard Organizer"}
    assert me.json()["scopes"] == GRANTED
    assert me.json()["user"]["username"] == "thorin"

    mine = oauth.get(world.url(f"/api/treasures/{world.in_granted.id}"), timeout=10)
    assert mine.status_code == 200, mine.text
    assert mine.json()["name"] == "Arkenstone"
    # Outside a restricted token's projects the caller is nobody (DESIGN 5, 6).
    outside = oauth.get(world.url(f"/api/treasures/{world.in_other.id}"), timeout=10)
    assert outside.status_code == 404, outside.text
    unchecked = oauth.post(world.url("/api/treasures"), json={"name": "Stolen goblet"}, timeout=10)
    assert unchecked.status_code == 403, unchecked.text
    assert unchecked.json()["error"] == "insufficient_scope"
    assert f'scope="{UNCHECKED}"' in unchecked.headers["WWW-Authenticate"]
    session_only = oauth.get(world.url("/api/tokens"), timeout=10)
    assert session_only.status_code == 403, session_only.text
    assert session_only.json()["error"] == "session_required"

    # Refresh (client_secret_post: requests-oauthlib puts them in the body).
    first = dict(token)
    renewed = oauth.refresh_token(world.metadata["token_endpoint"], client_id=app.client_id,
                                  client_secret=secret)
    rotation = oauth.answers[-1]
    assert rotation.status_code == 200, rotation.text
    assert "Authorization" not in rotation.request.headers
    assert renewed["access_token"].startswith("dho_")
    assert renewed["refresh_token"].startswith("dhr_")
    assert renewed["access_token"] != first["access_token"]
    assert renewed["refresh_token"] != first["refresh_token"]
    assert sorted(renewed["scope"]) == GRANTED
    assert oauth.get(world.url("/api/me"), timeout=10).status_code == 200

    # The old refresh token again, within the grace window: a client's retry
    # of a lost answer gets that same answer (here by client_secret_basic).
    again = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    retry = token_post(world, again, auth=(app.client_id, secret))
    assert retry.status_code == 200, retry.text
    assert retry.json() == rotation.json()
    assert oauth.get(world.url("/api/me"), timeout=10).status_code == 200

    # After the window it is a stolen token's replay: the whole grant goes.
    world.clock.advance(seconds=REFRESH_GRACE.total_seconds() + 1)
    replay = token_post(world, again, auth=(app.client_id, secret))
    assert replay.status_code == 400, replay.text
    assert replay.json()["error"] == "invalid_grant"
    assert_invalid_token(oauth.get(world.url("/api/me"), timeout=10))
    newest = token_post(world, {"grant_type": "refresh_token",
                                "refresh_token": renewed["refresh_token"]},
                        auth=(app.client_id, secret))
    assert newest.status_code == 400, newest.text
    assert newest.json()["error"] == "invalid_grant"


def revoke_in_chromium(world: World, app) -> None:
    """The user revokes ``app`` on /account/apps: its Revoke button (the
    password first, should the sudo window have closed)."""
    page = world.page
    listed = page.goto("/account/apps")
    assert listed.status == 200, listed.text()
    revoke = page.get_by_role("button", name=f"Revoke {app.name}")
    sync_api.expect(revoke).to_have_count(1)
    with page.expect_navigation():
        revoke.click()
    if page.locator('form[action="/account/sudo"]').count():
        page.fill("#password", factories.PASSWORD)
        with page.expect_navigation(url=re.compile(r"/account/apps$")):
            page.click('form[action="/account/sudo"] button[type=submit]')
        with page.expect_navigation():
            revoke.click()
    assert urlsplit(page.url).path == "/account/apps"
    sync_api.expect(page.locator("main")).to_contain_text(f"“{app.name}” can no longer act for you")
    sync_api.expect(revoke).to_have_count(0)


def test_revoking_the_app_on_account_apps_cuts_it_off(world):
    app, secret = new_app(world, confidential=True, name="Hoard Mirror")
    oauth = code_flow_session(world, app, scope=["treasure:read"])
    url, _state = oauth.authorization_url(world.metadata["authorization_endpoint"])
    redirected = consent_in_chromium(world, url)
    token = oauth.fetch_token(world.metadata["token_endpoint"], authorization_response=redirected,
                              client_secret=secret)
    mine = oauth.get(world.url(f"/api/treasures/{world.in_other.id}"), timeout=10)
    assert mine.status_code == 200, mine.text  # "all projects"

    revoke_in_chromium(world, app)

    assert_invalid_token(oauth.get(world.url("/api/me"), timeout=10))
    refresh = token_post(world, {"grant_type": "refresh_token",
                                 "refresh_token": token["refresh_token"]},
                         auth=(app.client_id, secret))
    assert refresh.status_code == 400, refresh.text
    assert refresh.json()["error"] == "invalid_grant"


def test_a_logged_out_user_who_consented_before_goes_from_login_straight_to_the_app(world, browser):  # noqa: F811
    """The login form's answer sends the browser on to /oauth/authorize, and
    that (consent given before) on to the app: one redirect chain that
    started with a form, which Chromium checks against the login page's CSP
    form-action."""
    app, secret = new_app(world, confidential=True, name="Hoard Returning")
    oauth = code_flow_session(world, app, scope=["treasure:read"])
    url, _state = oauth.authorization_url(world.metadata["authorization_endpoint"])
    consent_in_chromium(world, url)

    url, state = oauth.authorization_url(world.metadata["authorization_endpoint"])
    context = browser.new_context(base_url=world.base)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    try:
        page = context.new_page()
        problems = PageProblems(page)
        world.callback.forget()
        page.goto(url)
        assert urlsplit(page.url).path == "/login"
        page.fill("#email", world.user.email)
        page.fill("#password", factories.PASSWORD)
        try:
            with page.expect_navigation(url=lambda u: u.startswith(world.callback.url),
                                        timeout=REDIRECT_WAIT_MS):
                page.click("main form button[type=submit]")
        except sync_api.Error as error:
            pytest.fail(f"the login did not reach the redirect URI ({error.message.splitlines()[0]}); "
                        f"CSP: {problems.csp()}")
        redirected = world.callback.received()
    finally:
        context.close()
    assert query_of(redirected)["state"] == state
    token = oauth.fetch_token(world.metadata["token_endpoint"], authorization_response=redirected,
                              client_secret=secret)
    assert token["access_token"].startswith("dho_")


# -- 2. the device flow of a public app ----------------------------------------


def test_device_flow_with_a_public_client(world):
    app, secret = new_app(world, confidential=False, name="Hoard CLI")
    assert secret is None
    started = client().post(world.metadata["device_authorization_endpoint"],
                            data={"client_id": app.client_id, "scope": "treasure:read user:read"},
                            timeout=10)
    assert started.status_code == 200, started.text
    device = started.json()
    assert device["verification_uri"] == world.url("/device")
    assert device["verification_uri_complete"].startswith(world.url("/device?user_code="))
    assert re.fullmatch(r"[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}", device["user_code"])
    assert device["interval"] == 5
    assert device["expires_in"] == 600

    device_client = DeviceClient(app.client_id)

    def poll() -> requests.Response:
        body = device_client.prepare_request_body(device["device_code"], include_client_id=True)
        return client().post(world.metadata["token_endpoint"], data=body, timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})

    pending = poll()
    assert pending.status_code == 400, pending.text
    assert pending.json()["error"] == "authorization_pending"
    hurried = poll()  # at once, well within the 5 s interval
    assert hurried.status_code == 400, hurried.text
    assert hurried.json()["error"] == "slow_down"

    page = world.page
    page.goto(device["verification_uri_complete"])
    sync_api.expect(page.locator("#user_code")).to_have_value(device["user_code"])
    page.click("main form button[type=submit]")
    form = page.locator("form#consent")
    sync_api.expect(form).to_have_count(1)
    sync_api.expect(page.locator("main")).to_contain_text("Hoard CLI")
    with page.expect_navigation(url=re.compile(r"/device/done$")):
        form.locator('button[name="decision"][value="allow"]').click()
    sync_api.expect(page.locator("main")).to_contain_text("Hoard CLI is connected")

    # A polite client waits the interval, now 10 s after slow_down (RFC 8628
    # section 3.5); the clock moves instead.
    world.clock.advance(seconds=10)
    oauth = client(OAuth2Session(client=DeviceClient(app.client_id)))
    token = oauth.fetch_token(world.metadata["token_endpoint"], device_code=device["device_code"],
                              include_client_id=True)
    assert token["access_token"].startswith("dho_")
    assert token["refresh_token"].startswith("dhr_")
    assert sorted(token["scope"]) == ["treasure:read", "user:read"]
    me = oauth.get(world.url("/api/me"), timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["app"] == {"id": app.id, "name": "Hoard CLI"}

    world.clock.advance(seconds=15)
    twice = poll()
    assert twice.status_code == 400, twice.text
    assert twice.json()["error"] == "invalid_grant"
    assert oauth.get(world.url("/api/me"), timeout=10).status_code == 200


# -- 3. refusals ---------------------------------------------------------------


def test_refusals_as_the_rfcs_say(world):
    app, secret = new_app(world, confidential=True, name="Hoard Auditor")
    page, callback = world.page, world.callback
    authorize = world.metadata["authorization_endpoint"]

    # An unregistered redirect URI: the error is told on the page, never sent
    # to that URI (RFC 6749 section 4.1.2.1).
    stray = code_flow_session(world, app)
    stray.redirect_uri = callback.url + "/elsewhere"
    url, _state = stray.authorization_url(authorize)
    callback.forget()
    answer = page.goto(url)
    assert answer.status == 400
    assert page.url.startswith(authorize)
    assert callback.seen.empty()

    # No code challenge: PKCE is required (OAuth 2.1).
    no_pkce = code_flow_session(world, app, pkce=None)
    url, state = no_pkce.authorization_url(authorize)
    assert "code_challenge" not in url
    refused = page.request.get(url, max_redirects=0)
    assert refused.status == 302
    location = refused.headers["location"]
    assert location.startswith(callback.url + "?")
    assert query_of(location)["error"] == "invalid_request"
    assert query_of(location)["state"] == state
    # The library reads it as the error it is.
    with pytest.raises(OAuth2Error) as raised:
        no_pkce.fetch_token(world.metadata["token_endpoint"], authorization_response=location,
                            client_secret=secret)
    assert raised.value.error == "invalid_request"

    # code_challenge_method=plain: refused (S256 only).
    # (requests-oauthlib's pkce="plain" sends no challenge at all with
    # oauthlib 4: oauthlib's create_code_challenge answers None for "plain";
    # the parameters are given as the library's extra parameters instead.)
    plain = code_flow_session(world, app, pkce=None)
    url, state = plain.authorization_url(authorize, code_challenge="x" * 43,
                                         code_challenge_method="plain")
    assert "code_challenge_method=plain" in url
    refused = page.request.get(url, max_redirects=0)
    assert refused.status == 302
    assert query_of(refused.headers["location"])["error"] == "invalid_request"
    assert query_of(refused.headers["location"])["state"] == state

    # The user says no: the app learns it at its redirect URI (section 4.1.2.1).
    denied = code_flow_session(world, app)
    url, state = denied.authorization_url(authorize)
    redirected = consent_in_chromium(world, url, decision="deny")
    assert query_of(redirected) == {"error": "access_denied", "state": state}

    # A confidential client without its secret: 401 invalid_client, whether it
    # tries HTTP Basic with an empty secret (requests-oauthlib's default) or
    # names itself in the body only. Its code is still good afterwards.
    oauth = code_flow_session(world, app)
    url, _state = oauth.authorization_url(authorize)
    redirected = consent_in_chromium(world, url)
    with pytest.raises(InvalidClientError):
        oauth.fetch_token(world.metadata["token_endpoint"], authorization_response=redirected)
    basic = oauth.answers[-1]
    assert basic.status_code == 401, basic.text
    assert basic.json()["error"] == "invalid_client"
    assert basic.headers["WWW-Authenticate"].startswith("Basic ")
    expected = base64.b64encode(f"{app.client_id}:".encode()).decode("ascii")
    assert basic.request.headers["Authorization"] == f"Basic {expected}"
    code = query_of(redirected)["code"]
    named = token_post(world, {"grant_type": "authorization_code", "code": code,
                               "redirect_uri": callback.url, "client_id": app.client_id,
                               "code_verifier": oauth._code_verifier})
    assert named.status_code == 401, named.text
    assert named.json()["error"] == "invalid_client"

    token = oauth.fetch_token(world.metadata["token_endpoint"], authorization_response=redirected,
                              client_secret=secret)
    assert oauth.get(world.url("/api/me"), timeout=10).status_code == 200

    # The code a second time: refused, and what the first use issued is revoked.
    with pytest.raises(InvalidGrantError):
        oauth.fetch_token(world.metadata["token_endpoint"], authorization_response=redirected,
                          client_secret=secret)
    reused = oauth.answers[-1]
    assert reused.status_code == 400, reused.text
    assert reused.json()["error"] == "invalid_grant"
    assert_invalid_token(client().get(world.url("/api/me"), headers=bearer(token["access_token"]),
                                      timeout=10))
    refresh = token_post(world, {"grant_type": "refresh_token",
                                 "refresh_token": token["refresh_token"]},
                         auth=(app.client_id, secret))
    assert refresh.status_code == 400, refresh.text
    assert refresh.json()["error"] == "invalid_grant"


PHONE = {"width": 375, "height": 740}


def test_the_oauth_pages_fit_a_phone_and_pass_axe(world):
    """The consent, device and apps pages meet the pages' standards."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_module.Axe()
    app, _secret = new_app(world, name="Phone Organizer")
    oauth = code_flow_session(world, app)
    consent_url, _state = oauth.authorization_url(world.metadata["authorization_endpoint"])
    page = world.page
    page.set_viewport_size(PHONE)
    failures = []
    try:
        for url in (consent_url, world.url("/device"), world.url("/apps"),
                    world.url(f"/apps/{app.id}"), world.url("/account/apps")):
            failures.extend(phone_and_axe_problems(page, axe, url, PHONE["width"]))
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})
    assert failures == []

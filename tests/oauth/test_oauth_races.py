"""OAuth's check-then-act rules under concurrent requests (DESIGN sections 13
and 15): a code is exchanged once, a refresh token rotates once, a device
code is exchanged once. Requests are released together, round after round,
each thread with a client of its own on the one app."""
from __future__ import annotations

from functools import partial

from sqlalchemy import delete, func, select

from dragonhoard.models import ApiToken, OAuthApp, OAuthGrant, OAuthRefreshToken
from dragonhoard.services.apps import MAX_APPS_PER_USER

from ..helpers import form_login
from ..test_races import THREADS, browser, statuses, together
from .flows import DEVICE_GRANT, REDIRECT, authorize_params, code_for, pkce, refresh, tokens_for

ROUNDS = 10


def count(dbsession, model) -> int:
    found = dbsession.scalar(select(func.count()).select_from(model))
    dbsession.commit()
    return found


def test_a_code_exchanged_at_once_gives_tokens_once(make_testapp, factory, dbsession):
    user = factory.user()
    app, secret = factory.oauth_app(factory.user())
    browser = make_testapp()
    form_login(browser, user.email)
    clients = [make_testapp() for _ in range(THREADS)]
    for _ in range(ROUNDS):
        before = count(dbsession, ApiToken)
        code, verifier = code_for(browser, user, app, login=False)
        body = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                "redirect_uri": REDIRECT, "client_id": app.client_id, "client_secret": secret}
        found = statuses(together([partial(client.post, "/oauth/token", body, expect_errors=True)
                                   for client in clients]))
        assert found == [200] + [400] * (THREADS - 1)
        # The losers replayed the code: the grant and what it gave are gone.
        assert count(dbsession, ApiToken) == before


def test_a_refresh_token_presented_at_once_rotates_once(make_testapp, factory, dbsession):
    user = factory.user()
    app, secret = factory.oauth_app(factory.user())
    browser = make_testapp()
    current = tokens_for(browser, user, app, secret)["refresh_token"]
    clients = [make_testapp() for _ in range(THREADS)]
    for _ in range(ROUNDS):
        before = count(dbsession, OAuthRefreshToken)
        answers = together([partial(refresh, client, app, secret, current, status="*")
                            for client in clients])
        assert statuses(answers) == [200] * THREADS
        # Every retry within the grace window got the one answer.
        assert len({answer.body for answer in answers}) == 1
        assert count(dbsession, OAuthRefreshToken) == before + 1
        current = answers[0].json["refresh_token"]


def test_an_approved_device_code_polled_at_once_is_exchanged_once(make_testapp, factory,
                                                                   dbsession):
    user = factory.user()
    app, _ = factory.oauth_app(factory.user(), confidential=False)
    browser = make_testapp()
    form_login(browser, user.email)
    clients = [make_testapp() for _ in range(THREADS)]
    for _ in range(ROUNDS // 2):
        started = browser.post("/oauth/device_authorization",
                               {"client_id": app.client_id, "scope": "user:read"}).json
        page = browser.get("/device", {"user_code": started["user_code"]}).forms[1].submit()
        page.forms["consent"].submit("decision", value="allow", status=303)
        before = count(dbsession, ApiToken)
        body = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"],
                "client_id": app.client_id}
        answers = together([partial(client.post, "/oauth/token", body, expect_errors=True)
                            for client in clients])
        assert statuses(answers) == [200] + [400] * (THREADS - 1)
        assert count(dbsession, ApiToken) == before + 1


def test_consents_given_at_once_leave_one_grant(make_testapp, factory, dbsession):
    user = factory.user()
    app, _secret = factory.oauth_app(factory.user())
    browsers = [make_testapp() for _ in range(THREADS)]
    for each in browsers:
        form_login(each, user.email)
    for _ in range(ROUNDS):
        dbsession.execute(delete(OAuthGrant))
        dbsession.commit()
        forms = []
        for each in browsers:
            _verifier, challenge = pkce()
            forms.append(each.get("/oauth/authorize", authorize_params(app, challenge))
                         .forms["consent"])
        answers = together([partial(form.submit, "decision", value="allow", status="*")
                            for form in forms])
        assert statuses(answers) == [302] * THREADS
        assert count(dbsession, OAuthGrant) == 1


def test_apps_registered_at_once_never_pass_the_limit(make_testapp, factory, dbsession):
    user = factory.user()
    for _ in range(MAX_APPS_PER_USER - 1):
        factory.oauth_app(user)
    browsers = [browser(make_testapp, user) for _ in range(THREADS)]
    body = {"name": "One more", "redirect_uris": ["https://organizer.example/callback"]}
    for _ in range(ROUNDS):
        answers = together([partial(app.post_json, "/api/apps", body, headers=headers,
                                    status="*") for app, headers in browsers])
        assert statuses(answers) == [201] + [409] * (THREADS - 1)
        assert count(dbsession, OAuthApp) == MAX_APPS_PER_USER
        dbsession.execute(delete(OAuthApp).where(OAuthApp.name == "One more"))
        dbsession.commit()

"""The pages of second factors, without JavaScript (DESIGN section 14): the
second step of the form login, /account/two-factor (TOTP enrolment with the
QR code, recovery codes shown once, removal), sudo by a code."""
from __future__ import annotations

import base64
import re

from sqlalchemy import select

from dragonhoard.models import AuditEvent, TotpAuthenticator, User

from ..helpers import form_login
from ..mfa import code_now, give_key, give_recovery_codes, give_totp
from ..soft_authenticator import SoftAuthenticator


def form(page, action: str):
    return next(f for f in page.forms.values() if f.action == action)


def test_the_form_login_asks_for_the_second_factor(testapp, factory, dbsession, clock):
    user = factory.user()
    secret = give_totp(dbsession, user)
    give_recovery_codes(dbsession, user)
    response = form_login(testapp, user.email, next_path="/tokens", status=303)
    assert response.location.endswith("/login/two-factor?next=%2Ftokens")
    assert "dh_session" not in testapp.cookies and "dh_pending" in testapp.cookies
    testapp.get("/tokens", status=303)  # not logged in yet
    page = response.follow()
    assert "One more step" in page.text
    assert "<script>" not in page.text and " onclick=" not in page.text
    totp_form = page.forms["totp-form"]
    totp_form["code"] = code_now(secret, 3)
    wrong = totp_form.submit(status=400)
    assert "not accepted" in wrong.text
    totp_form = wrong.forms["totp-form"]
    totp_form["code"] = code_now(secret)
    done = totp_form.submit(status=303)
    assert done.location.endswith("/tokens")
    assert testapp.get("/tokens").status_int == 200
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "login:success")).one()
    assert event.details == {"via": "form", "method": "password+totp", "session_id": event.details["session_id"]}


def test_a_recovery_code_through_the_form_and_its_banner(testapp, factory, dbsession):
    user = factory.user()
    give_totp(dbsession, user)
    codes = give_recovery_codes(dbsession, user)
    page = form_login(testapp, user.email, status=303).follow()
    recovery = page.forms["recovery-form"]
    recovery["code"] = codes[3]
    landed = recovery.submit(status=303).follow()
    assert "You used a recovery code: 9 codes left." in landed.text
    testapp.post("/logout", {"csrf_token": landed.forms[0]["csrf_token"].value}, status=303)
    page = form_login(testapp, user.email, status=303).follow()
    recovery = page.forms["recovery-form"]
    recovery["code"] = codes[3]
    assert "not accepted" in recovery.submit(status=400).text


def test_the_second_step_page_without_a_pending_login_goes_back_to_login(testapp):
    response = testapp.get("/login/two-factor?next=/tokens", status=303)
    assert "/login?next=" in response.location
    assert "expired" in response.follow().text


def test_the_login_page_offers_a_passkey_with_its_own_script(testapp):
    page = testapp.get("/login")
    button = page.html.find(id="passkey-login")
    assert button is not None and button.has_attr("hidden") and button["data-webauthn"] == "login"
    assert '/static/webauthn.js' in page.text and "<script>" not in page.text


def test_enrolling_an_authenticator_app_on_the_page(testapp, factory, dbsession):
    user = factory.user()
    form_login(testapp, user.email, status=303)
    page = testapp.get("/account/two-factor")
    assert "Two-factor authentication is <strong>off</strong>" in page.text
    assert '<a href="/account/two-factor">Two-factor</a>' in page.text  # the account navigation
    enrol = page.forms["start-totp"].submit()
    assert enrol.headers["Cache-Control"] == "no-store"
    secret = enrol.html.find(id="totp-secret").text
    src = enrol.html.find(id="totp-qr")["src"]
    assert src.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(src.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and "script" not in svg and "style=" not in svg
    assert "img-src 'self' data:" in enrol.headers["Content-Security-Policy"]
    confirm = enrol.forms["totp-confirm"]
    confirm["code"] = "12345"
    again = confirm.submit(status=400)
    assert again.html.find(id="totp-secret").text == secret
    confirm = again.forms["totp-confirm"]
    confirm["code"] = code_now(secret)
    shown = confirm.submit(status=201)
    assert shown.headers["Cache-Control"] == "no-store"
    codes = [li.text for li in shown.html.find(id="recovery-codes").find_all("li")]
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    dbsession.expire_all()
    assert dbsession.get(User, user.id).mfa_enabled
    page = testapp.get("/account/two-factor")
    assert "10 unused recovery codes left." in page.text and codes[0] not in page.text
    # Regenerated: a new set, shown once.
    regenerated = page.forms["regenerate-codes"].submit(status=201)
    assert not set(codes) & {li.text for li in regenerated.html.find(id="recovery-codes").find_all("li")}
    # Removed.
    page = testapp.get("/account/two-factor")
    removed = form(page, "/account/two-factor/totp/remove").submit(status=303).follow()
    assert "The authenticator app is removed." in removed.text
    assert dbsession.get(TotpAuthenticator, user.id) is None


def test_changes_ask_for_sudo_first_and_take_a_code(testapp, factory, dbsession, clock):
    user = factory.user()
    secret = give_totp(dbsession, user)
    page = form_login(testapp, user.email, status=303).follow()
    totp_form = page.forms["totp-form"]
    totp_form["code"] = code_now(secret)
    totp_form.submit(status=303)
    clock.advance(seconds=901)
    page = testapp.get("/account/two-factor")
    prompt = page.forms["regenerate-codes"].submit(status=403)
    assert "Confirm your password" in prompt.text
    sudo = prompt.forms["sudo-totp"]
    sudo["totp_code"] = code_now(secret)
    back = sudo.submit(status=303)
    assert back.location.endswith("/account/two-factor")
    assert back.follow().forms["regenerate-codes"].submit(status=201)
    # The same code again is refused.
    clock.advance(seconds=901)
    prompt = testapp.get("/account/two-factor").forms["regenerate-codes"].submit(status=403)
    sudo = prompt.forms["sudo-totp"]
    sudo["totp_code"] = code_now(secret, -30)
    assert "not accepted" in sudo.submit(status=403).text


def test_keys_are_listed_and_removed_on_the_page(testapp, factory, dbsession):
    user = factory.user()
    form_login(testapp, user.email, status=303)
    key = give_key(dbsession, user, SoftAuthenticator(), name="YubiKey 5")
    page = testapp.get("/account/two-factor")
    assert "YubiKey 5" in page.text and page.html.find(id="add-webauthn")["data-webauthn"] == "register"
    form(page, f"/account/two-factor/webauthn/{key.id}/remove").submit(status=303)
    assert "YubiKey 5" not in testapp.get("/account/two-factor").text
    testapp.post(f"/account/two-factor/webauthn/{key.id}/remove",
                 {"csrf_token": page.forms["regenerate-codes"]["csrf_token"].value}, status=404)


def test_pages_refused_for_lack_of_a_factor_say_where_to_set_one_up(make_testapp, factory):
    testapp = make_testapp(dragonhoard__mfa__required="all")
    user = factory.user()
    landed = form_login(testapp, user.email, status=303)
    assert landed.location.endswith("/account/two-factor")
    assert "requires a second factor" in landed.follow().text
    page = testapp.get("/tokens", status=403)
    assert page.html.find(id="mfa-required") is not None
    assert page.html.find("a", href="/account/two-factor") is not None
    assert testapp.get("/account/two-factor").status_int == 200

"""The OAuth app pages: /apps (register, list), /apps/{id} (edit, rotate,
delete), /account/apps (authorized apps, revoke); sudo, CSRF, a phone's
width and the keyboard."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from dragonhoard.models import AuditEvent, OAuthApp

from ..factories import PASSWORD
from ..helpers import bearer, form_login, row_counts
from ..oauth.flows import tokens_for


def kinds(dbsession) -> list[str]:
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.kind.like("oauth:%"))
                             .order_by(AuditEvent.id)).all()


def fill(form, **values):
    for name, value in values.items():
        form[name] = value
    return form


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def test_registering_a_confidential_app_shows_its_secret_once(testapp, factory, dbsession):
    user = factory.user()
    form_login(testapp, user.email)
    page = testapp.get("/apps")
    assert "No apps yet." in page.text
    form = fill(page.forms["register-app"], name="Organizer", homepage="https://organizer.example",
                redirect_uris="https://organizer.example/cb\r\n\r\n  http://127.0.0.1:8765/cb  \r\n")
    assert form["client_type"].value == "confidential"  # the default
    response = form.submit(status=201)
    assert response.headers["Cache-Control"] == "no-store"
    assert "shown this once" in response.text
    secret = response.html.find(id="new-token").text.strip()
    assert secret.startswith("dhs_")
    app = dbsession.scalars(select(OAuthApp)).one()
    assert response.html.find(id="client-id").text == app.client_id
    assert app.owner_id == user.id and app.confidential
    assert app.redirect_uri_list == ["https://organizer.example/cb", "http://127.0.0.1:8765/cb"]
    assert app.secret_hash == sha256(secret)

    listing = testapp.get("/apps")
    assert secret not in listing.text and app.client_id in listing.text
    detail = testapp.get(f"/apps/{app.id}")
    assert secret not in detail.text and app.client_id in detail.text
    assert "rotate-secret" in detail.forms
    assert kinds(dbsession) == ["oauth:app_created"]


def test_a_public_app_gets_no_secret(testapp, factory, dbsession):
    user = factory.user()
    form_login(testapp, user.email)
    form = fill(testapp.get("/apps").forms["register-app"], name="Phone app",
                redirect_uris="com.example.phone:/oauth2redirect", client_type="public")
    response = form.submit(status=303)
    app = dbsession.scalars(select(OAuthApp)).one()
    assert response.location == f"/apps/{app.id}"
    page = response.follow()
    assert "has no secret" in page.text and "dhs_" not in page.text
    assert "rotate-secret" not in page.forms
    assert app.secret_hash is None and not app.confidential
    # A forged rotation is refused with a message, and changes nothing.
    csrf = page.forms["edit-app"]["csrf_token"].value
    flashed = testapp.post(f"/apps/{app.id}/secret", {"csrf_token": csrf}, status=303).follow()
    assert "A public app has no client secret." in flashed.text
    dbsession.expire_all()
    assert dbsession.get(OAuthApp, app.id).secret_hash is None


@pytest.mark.parametrize("fields, message", [
    ({"name": "   "}, "Cannot be blank."),
    ({"redirect_uris": ""}, "Give at least one redirect URI."),
    ({"redirect_uris": "http://organizer.example/cb"}, "http://organizer.example/cb: Use https"),
    ({"redirect_uris": "https://organizer.example/cb#x"}, "no fragment"),
    ({"redirect_uris": "com.example.app:/cb"}, "public apps only"),
    ({"homepage": "javascript:alert(1)"}, "Use an http(s) address"),
    ({"client_type": "secret"}, "Choose confidential or public."),
    ({"name": "Org\x00"}, "NUL"),
])
def test_form_errors_are_shown_and_nothing_is_created(testapp, factory, dbsession, fields,
                                                      message):
    user = factory.user()
    form_login(testapp, user.email)
    csrf = testapp.get("/apps").forms["register-app"]["csrf_token"].value
    before = row_counts(dbsession)
    post = {"csrf_token": csrf, "name": "Organizer", "homepage": "",
            "redirect_uris": "https://organizer.example/cb", "client_type": "confidential", **fields}
    response = testapp.post("/apps", post, status=400)
    assert message in response.html.find(class_="field-error").text
    assert "\x00" not in response.text
    form = response.forms["register-app"]
    assert form["redirect_uris"].value == post["redirect_uris"]  # filled in again
    assert row_counts(dbsession) == before


def test_registering_outside_sudo_asks_for_the_password(testapp, factory, clock, dbsession):
    user = factory.user()
    form_login(testapp, user.email)
    clock.advance(seconds=901)
    page = testapp.get("/apps")
    assert "asked for your password" in page.text
    form = fill(page.forms["register-app"], name="Late", redirect_uris="https://late.example/cb")
    response = form.submit(status=403)
    assert "Confirm your password" in response.text
    assert dbsession.scalars(select(OAuthApp.id)).all() == []
    sudo = response.forms[1]
    sudo["password"] = PASSWORD
    page = sudo.submit(status=303).follow()
    fill(page.forms["register-app"], name="Late", redirect_uris="https://late.example/cb").submit(
        status=201)
    assert dbsession.scalars(select(OAuthApp.name)).all() == ["Late"]


def test_editing_an_app(testapp, factory, dbsession):
    user = factory.user()
    app, _secret = factory.oauth_app(user, name="Organizer")
    form_login(testapp, user.email)
    page = testapp.get(f"/apps/{app.id}")
    form = page.forms["edit-app"]
    assert form["name"].value == "Organizer"
    assert form["redirect_uris"].value == "http://127.0.0.1:8765/callback"
    fill(form, name="Organizer Pro", redirect_uris="https://pro.example/cb\nhttp://[::1]:9/cb")
    page = form.submit(status=303).follow()
    assert "Saved." in page.text and "Organizer Pro" in page.text
    dbsession.expire_all()
    row = dbsession.get(OAuthApp, app.id)
    assert row.name == "Organizer Pro"
    assert row.redirect_uri_list == ["https://pro.example/cb", "http://[::1]:9/cb"]
    assert kinds(dbsession) == ["oauth:app_changed"]

    # A bad edit is shown next to its field and changes nothing.
    form = fill(page.forms["edit-app"], redirect_uris="ftp://pro.example/cb")
    response = form.submit(status=400)
    assert "ftp://pro.example/cb:" in response.html.find(class_="field-error").text
    dbsession.expire_all()
    assert dbsession.get(OAuthApp, app.id).redirect_uri_list == [
        "https://pro.example/cb", "http://[::1]:9/cb"]
    # Sent as it is: nothing changed, no event.
    testapp.get(f"/apps/{app.id}").forms["edit-app"].submit(status=303)
    assert kinds(dbsession) == ["oauth:app_changed"]


def test_editing_outside_sudo_asks_for_the_password(testapp, factory, clock, dbsession):
    user = factory.user()
    app, _secret = factory.oauth_app(user, name="Organizer")
    form_login(testapp, user.email)
    clock.advance(seconds=901)
    form = fill(testapp.get(f"/apps/{app.id}").forms["edit-app"], name="Changed")
    response = form.submit(status=403)
    assert response.forms[1]["next"].value == f"/apps/{app.id}"
    dbsession.expire_all()
    assert dbsession.get(OAuthApp, app.id).name == "Organizer"


def test_rotating_the_secret(testapp, factory, dbsession):
    user = factory.user()
    app, old = factory.oauth_app(user)
    form_login(testapp, user.email)
    response = testapp.get(f"/apps/{app.id}").forms["rotate-secret"].submit(status=200)
    assert response.headers["Cache-Control"] == "no-store"
    new = response.html.find(id="new-token").text.strip()
    assert new.startswith("dhs_") and new != old
    dbsession.expire_all()
    assert dbsession.get(OAuthApp, app.id).secret_hash == sha256(new)
    assert "rotated" in testapp.get(f"/apps/{app.id}").text
    assert kinds(dbsession) == ["oauth:secret_rotated"]


def test_deleting_asks_first_and_kills_the_apps_tokens(testapp, factory, dbsession):
    user = factory.user()
    app, secret = factory.oauth_app(user, name="Organizer")
    form_login(testapp, user.email)
    access = tokens_for(testapp, user, app, secret, login=False)["access_token"]
    testapp.get("/api/me", headers=bearer(access))
    page = testapp.get(f"/apps/{app.id}")
    confirm = page.click(href=f"/apps/{app.id}/delete")
    assert "Delete “Organizer”?" in confirm.text
    listing = confirm.forms[1].submit(status=303).follow()
    assert "is deleted" in listing.text and "No apps yet." in listing.text
    testapp.get("/api/me", headers=bearer(access), status=401)
    assert dbsession.scalars(select(OAuthApp.id)).all() == []
    # The owner's log says it was deleted; the user who had authorized it, revoked.
    assert kinds(dbsession)[-2:] == ["oauth:app_deleted", "oauth:revoked"]


def test_another_users_app_pages_are_404_like_a_missing_one(testapp, factory, dbsession):
    user = factory.user()
    theirs, _secret = factory.oauth_app(factory.user(), name="Theirs")
    form_login(testapp, user.email)
    csrf = testapp.get("/apps").forms["register-app"]["csrf_token"].value
    before = row_counts(dbsession)
    for method, suffix in (("GET", ""), ("POST", ""), ("POST", "/secret"), ("GET", "/delete"),
                           ("POST", "/delete")):
        answers = [
            testapp.get(f"/apps/{app_id}{suffix}", status=404) if method == "GET" else
            testapp.post(f"/apps/{app_id}{suffix}", {"csrf_token": csrf, "name": "Mine"},
                         status=404)
            for app_id in (theirs.id, 987654)]
        assert answers[0].body == answers[1].body, (method, suffix)
        assert "Theirs" not in answers[0].text
    assert row_counts(dbsession) == before
    assert "Theirs" not in testapp.get("/apps").text


def test_forms_need_their_csrf_token(testapp, factory, dbsession):
    user = factory.user()
    app, _secret = factory.oauth_app(user)
    form_login(testapp, user.email)
    before = row_counts(dbsession)
    testapp.post("/apps", {"name": "x", "redirect_uris": "https://x.example/cb",
                           "client_type": "public"}, status=403)
    testapp.post(f"/apps/{app.id}/delete", status=403)
    testapp.post(f"/account/apps/{app.id}/revoke", status=403)
    assert row_counts(dbsession) == before


def test_authorized_apps_are_listed_and_revoked(testapp, factory, dbsession, clock):
    user = factory.user()
    owner = factory.user()
    app, secret = factory.oauth_app(owner, name="Organizer", homepage="https://organizer.example")
    form_login(testapp, user.email)
    assert "You have authorized no app." in testapp.get("/account/apps").text
    access = tokens_for(testapp, user, app, secret, login=False)["access_token"]
    testapp.get("/api/me", headers=bearer(access))

    page = testapp.get("/account/apps")
    row = page.html.select_one("table.stack tbody tr")
    cells = {td["data-label"]: td.get_text(" ", strip=True) for td in row.find_all("td")}
    assert cells["App"] == "Organizer"
    assert row.find("a")["href"] == "https://organizer.example"
    assert cells["Scopes"] == "treasure:read , user:read"
    assert cells["Projects"] == "all"
    assert cells["Last used"] != "never"
    form = page.forms[1]
    assert form.action == f"/account/apps/{app.id}/revoke"

    # Outside sudo mode the password comes first.
    clock.advance(seconds=901)
    prompt = form.submit(status=403)
    testapp.get("/api/me", headers=bearer(access))
    sudo = prompt.forms[1]
    sudo["password"] = PASSWORD
    page = sudo.submit(status=303).follow()
    assert page.request.path == "/account/apps"
    page = page.forms[1].submit(status=303).follow()
    assert "can no longer act for you" in page.text and "You have authorized no app." in page.text
    testapp.get("/api/me", headers=bearer(access), status=401)
    assert kinds(dbsession)[-1] == "oauth:revoked"
    # Revoking again, or an app never authorized: not found.
    csrf = page.forms[0]["csrf_token"].value
    testapp.post(f"/account/apps/{app.id}/revoke", {"csrf_token": csrf}, status=404)
    testapp.post("/account/apps/987654/revoke", {"csrf_token": csrf}, status=404)
    assert dbsession.get(OAuthApp, app.id) is not None  # the owner keeps the app


@pytest.mark.parametrize("path", ["/apps", "/apps/1", "/apps/1/delete", "/account/apps"])
def test_the_pages_need_a_login(testapp, path):
    response = testapp.get(path, status=303)
    assert response.location.startswith("/login?next=")


def test_a_bearer_token_gets_no_page(testapp, factory):
    user = factory.user()
    _token, secret = factory.token(user, scopes=["user:read"])
    testapp.get("/apps", headers=bearer(secret), status=403)
    testapp.get("/account/apps", headers=bearer(secret), status=403)


def test_the_nav_links_to_both_pages(testapp, factory):
    user = factory.user()
    form_login(testapp, user.email)
    nav = testapp.get("/").html.select_one("header nav")
    links = {a.get_text(strip=True): a["href"] for a in nav.find_all("a")}
    assert links["Apps"] == "/apps" and links["Authorized apps"] == "/account/apps"


def test_every_control_has_a_label_and_tables_stack(testapp, factory):
    """The keyboard and screen readers: a label for every control; a phone:
    every table cell says what it is when the rows are stacked."""
    user = factory.user()
    app, secret = factory.oauth_app(user)
    public, _ = factory.oauth_app(user, confidential=False)
    form_login(testapp, user.email)
    tokens_for(testapp, user, app, secret, login=False)
    for path in ("/apps", f"/apps/{app.id}", f"/apps/{public.id}", f"/apps/{app.id}/delete",
                 "/account/apps"):
        html = testapp.get(path).html
        assert html.find("meta", attrs={"name": "viewport"}) is not None
        for control in html.select("main input, main textarea, main select"):
            if control.get("type") == "hidden":
                continue
            assert control.get("id"), (path, control)
            assert html.find("label", attrs={"for": control["id"]}) is not None, (path, control)
        for table in html.select("main table"):
            assert "stack" in table["class"], path
            for cell in table.select("tbody td"):
                assert cell.get("data-label") or cell.get("colspan"), (path, cell)
        for button in html.select("main button"):
            assert button.get_text(strip=True), (path, button)

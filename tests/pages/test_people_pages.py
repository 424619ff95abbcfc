"""The project page, the profile page and the administration pages: logged out,
refused and successful paths."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dragonhoard.models import AuditEvent, User
from dragonhoard.services.events import daily_logins
from dragonhoard.views.pages.charts import logins_chart

from ..helpers import bearer, caller_id, form_login, login


def test_the_new_pages_need_a_login(testapp, factory):
    project = factory.project()
    for path in (f"/projects/{project.slug}", "/projects/no-such-project", "/account/profile",
                 "/admin/users"):
        response = testapp.get(path, status=303)
        assert response.location == f"/login?next={path.replace('/', '%2F')}"


# -- the project page ------------------------------------------------------


def test_a_member_sees_the_project_page_with_their_role(testapp, factory):
    owner, editor = factory.user(), factory.user()
    project = factory.project(name="Erebor", members={owner: "owner", editor: "editor"})
    form_login(testapp, editor.email)
    page = testapp.get(f"/projects/{project.slug}")
    root = page.html.find(id="project-page")
    assert root["data-role"] == "editor" and root["data-slug"] == project.slug
    assert page.html.find(id="new-treasure") is not None  # editors create treasures
    assert page.html.find(id="add-member") is None and page.html.find(id="edit-project") is None
    assert "project.js" in page.text and "<script>" not in page.text


def test_owners_get_the_member_and_project_controls(testapp, factory):
    owner = factory.user()
    project = factory.project(members={owner: "owner"})
    form_login(testapp, owner.email)
    page = testapp.get(f"/projects/{project.slug}")
    for control in ("add-member", "edit-project", "delete-project", "new-treasure"):
        assert page.html.find(id=control) is not None, control


def test_viewers_get_no_create_form(testapp, factory):
    viewer = factory.user()
    project = factory.project(members={viewer: "viewer"})
    form_login(testapp, viewer.email)
    page = testapp.get(f"/projects/{project.slug}")
    assert page.html.find(id="new-treasure") is None and page.html.find(id="add-member") is None


def test_a_strangers_project_page_is_as_missing_as_no_project(testapp, factory):
    stranger = factory.user()
    project = factory.project(members={factory.user(): "owner"})
    form_login(testapp, stranger.email)
    hidden = testapp.get(f"/projects/{project.slug}", status=404)
    missing = testapp.get("/projects/no-such-project", status=404)
    assert hidden.body == missing.body


def test_the_dashboard_links_its_projects(testapp, factory):
    """The dashboard draws links to /projects/<slug> (its script, tested in the browser)."""
    js = testapp.get("/static/dashboard.js").text
    assert "/projects/${encodeURIComponent(p.slug)}" in js


# -- the profile page ------------------------------------------------------


def test_the_profile_page_changes_the_username(testapp, factory, dbsession):
    user = factory.user(username="oldname")
    form_login(testapp, user.email)
    page = testapp.get("/account/profile")
    form = page.forms["profile"]
    assert form["username"].value == "oldname" and form["email"].value == user.email
    form["username"] = "newname"
    page = form.submit(status=303).follow()
    assert "Your profile is saved." in page.text
    dbsession.expire_all()
    assert dbsession.get(User, user.id).username == "newname"


def test_an_email_change_asks_for_the_password_first(testapp, factory, dbsession, clock):
    user = factory.user()
    form_login(testapp, user.email)
    clock.advance(minutes=16)  # the login's sudo window has closed
    form = testapp.get("/account/profile").forms["profile"]
    form["email"] = "new-address@example.com"
    prompt = form.submit(status=403)
    assert "Enter your password to change your email address." in prompt.text
    dbsession.expire_all()
    assert dbsession.get(User, user.id).email == user.email
    clock.advance(minutes=-16)
    form = testapp.get("/account/profile").forms["profile"]
    form["email"] = "new-address@example.com"
    form.submit(status=303)
    dbsession.expire_all()
    assert dbsession.get(User, user.id).email == "new-address@example.com"
    kinds = dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.user_id == user.id)).all()
    assert "email:changed" in kinds


def test_the_profile_page_refuses_bad_and_taken_values(testapp, factory, dbsession):
    taken = factory.user(username="taken")
    user = factory.user()
    form_login(testapp, user.email)
    form = testapp.get("/account/profile").forms["profile"]
    form["username"] = "not a username!"
    page = form.submit(status=400)
    assert 'aria-invalid="true"' in page.text and page.html.find(id="username-error") is not None
    form = testapp.get("/account/profile").forms["profile"]
    form["username"] = taken.username.upper()
    assert "This username is taken." in form.submit(status=409).text
    dbsession.expire_all()
    assert dbsession.get(User, user.id).username == user.username


# -- administration --------------------------------------------------------


def test_administration_is_for_admins(testapp, factory):
    form_login(testapp, factory.user().email)
    testapp.get("/admin/users", status=403)
    target = factory.user()
    csrf = testapp.get("/account/sessions").forms[0]["csrf_token"].value
    testapp.post(f"/admin/users/{target.id}/active", {"csrf_token": csrf, "on": "false"}, status=403)


def test_a_token_never_reaches_administration(testapp, factory):
    admin = factory.user(is_admin=True)
    _row, secret = factory.token(admin, scopes=["admin"])
    testapp.get("/admin/users", headers=bearer(secret), status=403)


def test_an_admin_finds_and_deactivates_a_user(testapp, factory, dbsession):
    admin = factory.user(is_admin=True)
    target = factory.user(username="scatha")
    _row, target_secret = factory.token(target)
    target_app_session, _cookie = factory.login_session(target)
    form_login(testapp, admin.email)
    page = testapp.get("/admin/users?q=SCAT")
    names = [row.find("td").text for row in page.html.find("tbody").find_all("tr")]
    assert names == ["scatha"]
    form = next(f for f in page.forms.values() if f.action == f"/admin/users/{target.id}/active")
    page = form.submit(status=303).follow()
    assert "scatha: active off." in page.text
    dbsession.expire_all()
    assert dbsession.get(User, target.id).is_active is False
    testapp.get("/api/me", headers=bearer(target_secret), status=401)
    target_events = dbsession.scalars(select(AuditEvent).where(AuditEvent.user_id == target.id)).all()
    assert [e.details for e in target_events if e.kind == "user:deactivated"] == [
        {"by": "admin", "by_user_id": admin.id}]
    mine = dbsession.scalars(select(AuditEvent).where(AuditEvent.user_id == admin.id,
                                                      AuditEvent.kind == "admin:action")).all()
    assert mine[0].details["target_user_id"] == target.id and mine[0].details["action"] == "user:deactivated"
    # Reactivated, the token works again.
    page = testapp.get("/admin/users?q=scatha")
    next(f for f in page.forms.values() if f.action == f"/admin/users/{target.id}/active").submit()
    assert caller_id(testapp, headers=bearer(target_secret)) == target.id


def test_an_admin_grants_and_removes_admin_rights_in_sudo_mode(testapp, factory, dbsession, clock):
    admin = factory.user(is_admin=True)
    target = factory.user()
    form_login(testapp, admin.email)
    clock.advance(minutes=16)
    page = testapp.get(f"/admin/users?q={target.username}")
    form = next(f for f in page.forms.values() if f.action == f"/admin/users/{target.id}/admin")
    assert "Enter your password" in form.submit(status=403).text
    clock.advance(minutes=-16)
    page = testapp.get(f"/admin/users?q={target.username}")
    next(f for f in page.forms.values() if f.action == f"/admin/users/{target.id}/admin").submit(status=303)
    dbsession.expire_all()
    assert dbsession.get(User, target.id).is_admin is True
    kinds = dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.user_id == target.id)).all()
    assert "user:admin_granted" in kinds


def test_an_admin_cannot_change_their_own_account_here(testapp, factory, dbsession):
    admin = factory.user(is_admin=True)
    csrf = login(testapp, admin)
    page = testapp.post(f"/admin/users/{admin.id}/admin", {"csrf_token": csrf, "on": "false"},
                        status=303).follow()
    assert "You cannot change your own account here." in page.text
    dbsession.expire_all()
    assert dbsession.get(User, admin.id).is_admin is True


def test_changing_a_missing_user_is_404(testapp, factory):
    csrf = login(testapp, factory.user(is_admin=True))
    testapp.post("/admin/users/2147483000/active", {"csrf_token": csrf, "on": "false"}, status=404)


# -- pictures --------------------------------------------------------------


def test_the_security_log_draws_logins_and_failures_per_day(testapp, factory, dbsession, clock):
    user = factory.user()
    factory.audit_event("login:success", user, created_at=clock.at - timedelta(days=2))
    factory.audit_event("login:failure", user, created_at=clock.at - timedelta(days=2))
    factory.audit_event("login:failure", user, created_at=clock.at - timedelta(days=40))
    days = daily_logins(dbsession, user.id)
    assert len(days) == 30 and days[-1].day == clock.at.date()
    two_days_ago = next(d for d in days if d.day == (clock.at - timedelta(days=2)).date())
    assert (two_days_ago.logins, two_days_ago.failures) == (1, 1)
    form_login(testapp, user.email)
    page = testapp.get("/account/security")
    svg = page.html.find("svg", class_="chart")
    assert svg is not None and svg["role"] == "img"
    assert "2 logins and 1 failed attempts" in svg["aria-label"]
    assert "style=" not in str(svg)


def test_the_chart_scales_to_the_busiest_day():
    from datetime import date

    from dragonhoard.services.events import Day

    svg = str(logins_chart([Day(date(2026, 12, 1), 4, 0), Day(date(2026, 12, 2), 0, 2)]))
    assert 'height="140.0"' in svg and 'height="70.0"' in svg  # 4 is full height, 2 half
    assert "2026-12-01: 4 logins" in svg and "<script" not in svg


def test_the_token_page_shows_the_lifetime_left(testapp, factory, clock):
    user = factory.user()
    factory.token(user, name="soon", expires_at=clock.at + timedelta(days=3))
    factory.token(user, name="later", expires_at=clock.at + timedelta(days=30))
    form_login(testapp, user.email)
    page = testapp.get("/tokens")
    meters = page.html.find_all("meter")
    assert len(meters) == 2
    assert page.text.count("expires within 7 days") == 1


def test_an_admin_resets_a_locked_out_users_second_factors(testapp, factory, dbsession):
    from ..mfa import give_totp

    admin = factory.user(is_admin=True)
    target = factory.user(username="locked-out")
    give_totp(dbsession, target)
    _session, _cookie = factory.login_session(target)
    form_login(testapp, admin.email)
    page = testapp.get("/admin/users?q=locked-out")
    form = next(f for f in page.forms.values() if f.action == f"/admin/users/{target.id}/mfa")
    page = form.submit(status=303).follow()
    assert "locked-out: second factors reset." in page.text
    dbsession.expire_all()
    assert dbsession.get(User, target.id).mfa_enabled is False
    reset = dbsession.scalars(select(AuditEvent).where(AuditEvent.user_id == target.id,
                                                       AuditEvent.kind == "mfa:reset")).one()
    assert reset.details["by_user_id"] == admin.id and reset.details["totp"] == 1
    assert dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.user_id == admin.id,
                                                           AuditEvent.kind == "admin:action")).all()


def test_the_project_page_shows_and_offers_the_two_factor_rule(testapp, factory, dbsession):
    from ..mfa import code_now, give_totp, start_login

    owner = factory.user()
    secret = give_totp(dbsession, owner)
    project = factory.project(members={owner: "owner"}, require_mfa=True)
    assert start_login(testapp, owner).json["mfa_required"] is True
    testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=200)
    page = testapp.get(f"/projects/{project.slug}")
    assert page.html.find(id="mfa-note") is not None
    assert page.html.find("input", attrs={"name": "require_mfa"}).has_attr("checked")

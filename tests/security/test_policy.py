"""The policy at request time: roles are read fresh, scopes alone grant nothing,
the cost of a request, lists filtered in SQL, and an API-only configuration."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from dragonhoard import clock as app_clock
from dragonhoard.models import Treasure
from dragonhoard.security.permissions import SCOPES

from ..factories import PASSWORD
from ..helpers import bearer, login

ALL_SCOPES = sorted(SCOPES)


def test_every_scope_grants_nothing_without_a_role(testapp, factory):
    stranger = factory.user()
    owner = factory.user()
    project = factory.project(members={owner: "owner"})
    hidden = factory.treasure(owner, project=project)
    _row, secret = factory.token(stranger, scopes=[s for s in ALL_SCOPES if s != "admin"])
    testapp.get(f"/api/treasures/{hidden.id}", headers=bearer(secret), status=404)
    testapp.get(f"/api/projects/{project.slug}", headers=bearer(secret), status=404)
    testapp.patch_json(f"/api/treasures/{hidden.id}", {"name": "Mine"}, headers=bearer(secret), status=404)
    listed = testapp.get("/api/treasures", headers=bearer(secret)).json
    assert hidden.id not in [item["id"] for item in listed["items"]]


def test_a_role_change_applies_to_the_next_request(testapp, factory, dbsession):
    member = factory.user()
    owner = factory.user()
    project = factory.project(members={owner: "owner"})
    membership = factory.membership(project, member, "viewer")
    treasure = factory.treasure(owner, project=project)
    _row, secret = factory.token(member, scopes=["treasure:edit", "treasure:read"])
    csrf = login(testapp, member)
    session_edit = dict(headers={"X-CSRF-Token": csrf})
    token_edit = dict(headers=bearer(secret))

    for kw in (session_edit, token_edit):
        testapp.patch_json(f"/api/treasures/{treasure.id}", {"value": 1}, status=403, **kw)
    membership.role = "editor"
    dbsession.commit()
    for kw in (session_edit, token_edit):
        testapp.patch_json(f"/api/treasures/{treasure.id}", {"value": 2}, status=200, **kw)
    dbsession.delete(membership)
    dbsession.commit()
    for kw in (session_edit, token_edit):
        testapp.patch_json(f"/api/treasures/{treasure.id}", {"value": 3}, status=404, **kw)
        testapp.get(f"/api/treasures/{treasure.id}", status=404, **kw)


def test_a_bearer_item_get_costs_two_statements(testapp, factory, statement_log):
    """Authentication one, the context with the caller's membership one; safe
    requests run without BEGIN/COMMIT."""
    member = factory.user()
    project = factory.project(members={member: "viewer"})
    treasure = factory.treasure(member, project=project)
    _row, secret = factory.token(member, scopes=["treasure:read"])
    testapp.get(f"/api/treasures/{treasure.id}", headers=bearer(secret))  # last use written
    with statement_log(testapp.app) as log:
        body = testapp.get(f"/api/treasures/{treasure.id}", headers=bearer(secret)).json
    assert body["project"] == project.slug
    assert log.count == 2, log.statements


def test_a_write_costs_begin_and_commit_on_top(testapp, factory, statement_log, database):
    member = factory.user()
    treasure = factory.treasure(member)
    _row, secret = factory.token(member, scopes=["treasure:edit"])
    testapp.patch_json(f"/api/treasures/{treasure.id}", {"value": 1}, headers=bearer(secret))
    with statement_log(testapp.app) as log:
        testapp.patch_json(f"/api/treasures/{treasure.id}", {"value": 2}, headers=bearer(secret))
    # authentication, context, UPDATE, plus BEGIN and COMMIT
    assert log.count == 5, log.statements


def test_lists_show_only_what_the_caller_may_view_in_bounded_queries(testapp, factory, dbsession,
                                                                      statement_log):
    me = factory.user()
    other = factory.user()
    mine = factory.project(members={me: "viewer"})
    theirs = factory.project(members={other: "owner"})
    rows = []
    created = app_clock.now()
    for n in range(1000):
        owner = (me, other)[n % 2]
        project = (None, mine, theirs)[n % 3]
        rows.append({"owner_id": owner.id, "project_id": project.id if project else None,
                     "name": f"T{n}", "description": "", "value": n, "cool_factor": n % 11,
                     "is_published": n % 5 == 0, "plundered_at": created,
                     "created_at": created - timedelta(seconds=n)})
    dbsession.execute(insert(Treasure), rows)
    dbsession.commit()
    visible = {
        i for i, r in enumerate(rows)
        if r["is_published"] or r["owner_id"] == me.id or r["project_id"] == mine.id
    }
    _row, secret = factory.token(me, scopes=["treasure:read"])
    testapp.get("/api/me", headers=bearer(secret))  # last use written (once a minute)
    seen = []
    with statement_log(testapp.app) as log:
        page = 1
        while True:
            body = testapp.get(f"/api/treasures?per_page=100&page={page}", headers=bearer(secret)).json
            seen.extend(item["name"] for item in body["items"])
            if page * 100 >= body["total"]:
                break
            page += 1
    assert body["total"] == len(visible)
    assert sorted(seen) == sorted(f"T{i}" for i in visible)
    assert log.count == 2 * page, log.statements  # authentication + one statement a page
    anonymous = testapp.get("/api/treasures?per_page=100").json
    assert anonymous["total"] == sum(1 for r in rows if r["is_published"])


def test_an_api_only_deployment(make_testapp, factory):
    app = make_testapp(dragonhoard__auth_sources="bearer")
    user = factory.user()
    _row, secret = factory.token(user, scopes=["user:read"])
    assert app.get("/api/me", headers=bearer(secret)).json["auth"] == "token"
    app.post_json("/api/login", {"email": user.email, "password": PASSWORD}, status=404)
    app.get("/login", status=404)
    _session, cookie = factory.login_session(user)
    app.set_cookie("dh_session", cookie)
    app.get("/api/me", status=401)
    response = app.get("/api/me", headers={"Authorization": "Basic eDp5"}, status=401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="dragonhoard"'


def test_a_sessions_only_deployment_treats_bearer_as_another_scheme(make_testapp, factory):
    app = make_testapp(dragonhoard__auth_sources="session")
    user = factory.user()
    _row, secret = factory.token(user)
    response = app.get("/api/me", headers=bearer(secret), status=401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="dragonhoard"'


def test_api_answers_vary_and_are_not_stored(testapp, factory):
    user = factory.user()
    treasure = factory.treasure(user, is_published=True)
    anonymous = testapp.get(f"/api/treasures/{treasure.id}")
    assert anonymous.headers["Vary"] == "Authorization, Cookie"
    assert "Cache-Control" not in anonymous.headers
    _row, secret = factory.token(user)
    with_token = testapp.get(f"/api/treasures/{treasure.id}", headers=bearer(secret))
    assert with_token.headers["Cache-Control"] == "no-store"
    assert with_token.headers["Vary"] == "Authorization, Cookie"
    login(testapp, user)
    assert testapp.get("/api/me").headers["Cache-Control"] == "no-store"


def test_unknown_api_paths_and_methods(testapp):
    response = testapp.get("/api/dragons", status=404)
    assert response.json["error"] == "not_found"
    testapp.get("/api/treasures/abc", status=404)
    response = testapp.put("/api/treasures", status=405)
    assert response.headers["Allow"] == "GET, HEAD, POST" and response.json["error"] == "method_not_allowed"
    response = testapp.delete("/api/users/12345", status=405)
    assert response.headers["Allow"] == "GET, HEAD, PATCH"


def test_identity_is_computed_once_per_request(testapp, factory, monkeypatch):
    from dragonhoard.security.sources.bearer import BearerSource

    user = factory.user()
    treasure = factory.treasure(user)
    _row, secret = factory.token(user, scopes=["treasure:read"])
    calls = []
    real = BearerSource.identify

    def counting(self, request):
        calls.append(request)
        return real(self, request)

    monkeypatch.setattr(BearerSource, "identify", counting)
    testapp.get(f"/api/treasures/{treasure.id}", headers=bearer(secret))
    assert len(calls) == 1


def test_anonymous_profiles_are_401_whether_or_not_they_exist(testapp, factory):
    user = factory.user()
    for path in (f"/api/users/{user.id}", "/api/users/999999", "/api/users?username=x"):
        assert testapp.get(path, status=401).headers["WWW-Authenticate"] == 'Bearer realm="dragonhoard"'
    testapp.patch_json("/api/users/999999", {"username": "x"}, status=401)

"""Who must have a second factor (DESIGN section 14): ``dragonhoard.mfa.required``
(``tokens``, ``all``) and a project's ``require_mfa``, by session and by token
alike, resolved at request time at no extra cost."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from dragonhoard.models import Project, User
from dragonhoard.settings import ConfigError, load_settings

from ..conftest import BASE_SETTINGS
from ..helpers import bearer, login
from ..mfa import code_now, enrol_totp, give_totp, start_login


def session_of(testapp, user, dbsession) -> dict:
    """Log ``user`` in (with their TOTP when they have one); the CSRF header."""
    if user.mfa_enabled:
        start_login(testapp, user)
        secret = dbsession.info["totp"][user.id]
        return {"X-CSRF-Token": testapp.post_json("/api/login/totp", {"code": code_now(secret)}).json["csrf_token"]}
    return {"X-CSRF-Token": login(testapp, user)}


def with_totp(dbsession, user) -> User:
    dbsession.info.setdefault("totp", {})[user.id] = give_totp(dbsession, user)
    return user


# -- dragonhoard.mfa.required -------------------------------------------------

def test_the_setting_is_checked_at_start():
    base = dict(BASE_SETTINGS, **{"sqlalchemy.url": "sqlite://"})
    assert load_settings(base).mfa_required == "none"
    assert load_settings(dict(base, **{"dragonhoard.mfa.required": "all"})).mfa_required == "all"
    with pytest.raises(ConfigError, match="dragonhoard.mfa.required must be one of none, tokens, all"):
        load_settings(dict(base, **{"dragonhoard.mfa.required": "some"}))


@pytest.mark.parametrize("setting", ["tokens", "all"])
def test_tokens_need_a_second_factor(make_testapp, factory, dbsession, setting):
    testapp = make_testapp(dragonhoard__mfa__required=setting)
    user = factory.user()
    token, _secret = factory.token(user)
    headers = session_of(testapp, user, dbsession)
    for method, path in (("post", "/api/tokens"), ("post", f"/api/tokens/{token.id}/rotate")):
        response = getattr(testapp, f"{method}_json")(path, {"name": "ci"}, headers=headers, status=403)
        assert response.json["error"] == "mfa_required"
    if setting == "tokens":
        # Everything else is as before.
        testapp.get("/api/tokens", headers=headers)
        testapp.get("/api/treasures", headers=headers)
    enrol_totp(testapp, headers["X-CSRF-Token"])
    testapp.post_json("/api/tokens", {"name": "ci"}, headers=headers, status=201)
    testapp.post_json(f"/api/tokens/{token.id}/rotate", {}, headers=headers, status=201)


def test_without_the_setting_tokens_need_nothing(testapp, factory, dbsession):
    headers = session_of(testapp, factory.user(), dbsession)
    testapp.post_json("/api/tokens", {"name": "ci"}, headers=headers, status=201)


def test_all_leaves_an_account_without_one_only_the_way_to_set_one_up(make_testapp, factory,
                                                                      dbsession):
    testapp = make_testapp(dragonhoard__mfa__required="all")
    user = factory.user()
    treasure = factory.treasure(user)
    headers = session_of(testapp, user, dbsession)
    assert testapp.get("/api/me").json["user"]["id"] == user.id
    assert testapp.get("/api/account/mfa").json["required"] is True
    for method, path in (("get", "/api/treasures"), ("get", f"/api/treasures/{treasure.id}"),
                         ("get", "/api/tokens"), ("get", "/api/sessions"), ("get", "/api/events"),
                         ("get", "/api/projects"), ("post", "/api/projects")):
        response = getattr(testapp, method)(path, headers=headers, status=403)
        assert response.json["error"] == "mfa_required", path
    # Pages say so, with the way out.
    page = testapp.get("/", status=403)
    assert "/account/two-factor" in page.text and "requires a second factor" in page.text
    testapp.get("/account/two-factor")
    # A hidden row is still a 404 first; even what anyone may see is refused
    # to the account (anonymous callers still see it).
    other = factory.user()
    hidden = factory.treasure(other)
    published = factory.treasure(other, is_published=True)
    testapp.get(f"/api/treasures/{published.id}", status=403)
    testapp.get(f"/api/treasures/{hidden.id}", status=404)
    testapp.get("/login")
    assert make_testapp(dragonhoard__mfa__required="all").get("/api/treasures").json["total"] == 1

    enrol_totp(testapp, headers["X-CSRF-Token"])
    testapp.get("/api/treasures")
    testapp.get(f"/api/treasures/{treasure.id}")
    testapp.get("/")
    testapp.post("/api/logout", headers=headers, status=204)


def test_all_still_lets_them_log_out_and_sudo(make_testapp, factory, dbsession, clock):
    testapp = make_testapp(dragonhoard__mfa__required="all")
    user = factory.user()
    headers = session_of(testapp, user, dbsession)
    clock.advance(seconds=901)
    testapp.post_json("/api/account/totp", {}, headers=headers, status=403)  # reauth_required
    testapp.post_json("/api/sudo", {"password": "correct-horse-battery-staple-42"}, headers=headers)
    testapp.post_json("/api/account/totp", {}, headers=headers, status=201)
    testapp.post("/api/logout", headers=headers, status=204)


def test_all_applies_to_tokens_of_such_accounts(make_testapp, factory, dbsession):
    testapp = make_testapp(dragonhoard__mfa__required="all")
    user = factory.user()
    _row, secret = factory.token(user, scopes=["treasure:read", "user:read"])
    assert testapp.get("/api/me", headers=bearer(secret)).json["user"]["id"] == user.id
    testapp.get("/api/tokens/self", headers=bearer(secret))
    response = testapp.get("/api/treasures", headers=bearer(secret), status=403)
    assert response.json["error"] == "mfa_required"
    with_totp(dbsession, user)
    testapp.get("/api/treasures", headers=bearer(secret))


# -- a project's require_mfa -----------------------------------------------------------

@pytest.fixture
def world(factory, dbsession):
    owner = with_totp(dbsession, factory.user())
    member = factory.user()
    stranger = factory.user()
    project = factory.project(slug="erebor", members={owner: "owner", member: "editor"})
    hidden = factory.treasure(owner, project=project)
    mine = factory.treasure(member, project=project)
    published = factory.treasure(owner, project=project, is_published=True)
    own_alone = factory.treasure(member)
    return owner, member, stranger, project, hidden, mine, published, own_alone


def test_only_an_owner_with_a_second_factor_turns_it_on(testapp, make_testapp, factory, dbsession,
                                                        world):
    owner, member, _stranger, project, *_ = world
    editor = session_of(testapp, member, dbsession)
    testapp.patch_json("/api/projects/erebor", {"require_mfa": True}, headers=editor, status=403)
    bare_owner = factory.user()
    factory.membership(project, bare_owner, "owner")
    other = make_testapp()
    response = other.patch_json("/api/projects/erebor", {"require_mfa": True},
                                headers=session_of(other, bare_owner, dbsession), status=403)
    assert response.json["error"] == "mfa_required"
    third = make_testapp()
    third_headers = session_of(third, owner, dbsession)
    owned = third.patch_json("/api/projects/erebor", {"require_mfa": True}, headers=third_headers).json
    assert owned["require_mfa"] is True
    assert third.get("/api/projects/erebor").json["require_mfa"] is True
    third.patch_json("/api/projects/erebor", {"require_mfa": "yes"}, headers=third_headers, status=422)
    # The project requires one now: the editor without one is told so.
    response = testapp.patch_json("/api/projects/erebor", {"name": "x"}, headers=editor, status=403)
    assert response.json["error"] == "mfa_required"


def _require(dbsession, project, on: bool = True) -> None:
    dbsession.execute(update(Project).where(Project.id == project.id).values(require_mfa=on))
    dbsession.commit()


def test_a_member_without_one_is_refused_by_session_and_token(testapp, make_testapp, factory,
                                                             dbsession, world):
    owner, member, stranger, project, hidden, mine, published, own_alone = world
    _require(dbsession, project)
    _row, token = factory.token(member, scopes=["treasure:read", "treasure:edit", "project:read"])
    session = session_of(testapp, member, dbsession)
    token_app = make_testapp()
    for app, headers in ((testapp, session), (token_app, bearer(token))):
        for path in ("/api/projects/erebor", "/api/projects/erebor/members",
                     "/api/projects/erebor/treasures", f"/api/treasures/{hidden.id}",
                     f"/api/treasures/{mine.id}"):
            response = app.get(path, headers=headers, status=403)
            assert response.json["error"] == "mfa_required", path
            assert "WWW-Authenticate" not in response.headers
        response = app.patch_json(f"/api/treasures/{mine.id}", {"value": 1}, headers=headers, status=403)
        assert response.json["error"] == "mfa_required"
        # Published treasures stay readable; their own project-less ones too.
        app.get(f"/api/treasures/{published.id}", headers=headers)
        app.get(f"/api/treasures/{own_alone.id}", headers=headers)
        listed = {item["id"] for item in app.get("/api/treasures", headers=headers).json["items"]}
        assert listed == {published.id, own_alone.id}
        of_project = app.get("/api/treasures?project=erebor", headers=headers).json
        assert [item["id"] for item in of_project["items"]] == [published.id]
        assert of_project["total"] == 1
        # A member learns the project exists (their list shows it).
        slugs = [p["slug"] for p in app.get("/api/projects", headers=headers).json["items"]]
        assert slugs == ["erebor"]
    # Creating in it is refused too.
    response = testapp.post_json("/api/treasures", {"name": "Cup", "project": "erebor"}, headers=session,
                                 status=403)
    assert response.json["error"] == "mfa_required"

    # Others still see nothing: a 404 like a missing row.
    stranger_app = make_testapp()
    stranger_headers = session_of(stranger_app, stranger, dbsession)
    assert (stranger_app.get("/api/projects/erebor", headers=stranger_headers, status=404).json
            == stranger_app.get("/api/projects/no-such", headers=stranger_headers, status=404).json)
    stranger_app.get(f"/api/treasures/{hidden.id}", headers=stranger_headers, status=404)

    # The owner, with a second factor, sees it all.
    owner_app = make_testapp()
    owner_app.get("/api/projects/erebor", headers=session_of(owner_app, owner, dbsession))
    owner_app.get(f"/api/treasures/{mine.id}")

    # Enrolling admits the member on the next request, session and token alike.
    enrol_totp(testapp, session["X-CSRF-Token"])
    for app, headers in ((testapp, session), (token_app, bearer(token))):
        app.get("/api/projects/erebor", headers=headers)
        app.get(f"/api/treasures/{hidden.id}", headers=headers)
        listed = {item["id"] for item in app.get("/api/treasures", headers=headers).json["items"]}
        assert listed == {published.id, own_alone.id, hidden.id, mine.id}

    # ...and turning it off again admits everyone as before.
    _require(dbsession, project, False)
    dbsession.execute(update(User).where(User.id == member.id).values(mfa_enabled=False))
    dbsession.commit()
    token_app.get(f"/api/treasures/{hidden.id}", headers=bearer(token))


def test_an_admin_without_one_is_refused_too(make_testapp, factory, dbsession, world):
    _owner, _member, _stranger, project, hidden, *_ = world
    _require(dbsession, project)
    admin = factory.user(is_admin=True)
    testapp = make_testapp()
    headers = session_of(testapp, admin, dbsession)
    response = testapp.get(f"/api/treasures/{hidden.id}", headers=headers, status=403)
    assert response.json["error"] == "mfa_required"
    assert hidden.id not in {i["id"] for i in testapp.get("/api/treasures?per_page=100").json["items"]}


def test_a_restricted_token_outside_its_reach_still_gets_404(testapp, factory, dbsession, world):
    _owner, member, _stranger, project, hidden, *_ = world
    _require(dbsession, project)
    elsewhere = factory.project(members={member: "viewer"})
    _row, token = factory.token(member, scopes=["treasure:read", "project:read"], projects=[elsewhere])
    testapp.get("/api/projects/erebor", headers=bearer(token), status=404)
    testapp.get(f"/api/treasures/{hidden.id}", headers=bearer(token), status=404)


def test_item_gets_still_cost_two_statements(testapp, make_testapp, factory, dbsession, world,
                                             statement_log):
    _owner, member, _stranger, project, hidden, *_ = world
    _require(dbsession, project)
    _row, token = factory.token(member, scopes=["treasure:read"])
    testapp.get(f"/api/treasures/{hidden.id}", headers=bearer(token), status=403)  # last use written
    with statement_log(testapp.app) as log:
        testapp.get(f"/api/treasures/{hidden.id}", headers=bearer(token), status=403)
    assert log.count == 2, log.statements
    session_app = make_testapp()
    session_of(session_app, member, dbsession)
    with statement_log(session_app.app) as log:
        session_app.get(f"/api/treasures/{hidden.id}", status=403)
    assert log.count == 2, log.statements
    with_totp(dbsession, member)
    with statement_log(session_app.app) as log:
        session_app.get(f"/api/treasures/{hidden.id}")
        session_app.get("/api/projects/erebor")
    assert log.count == 4, log.statements

"""Walk DESIGN section 5's permission table through HTTP.

The expectations below are written out by hand from DESIGN.md, not derived
from ``dragonhoard/security/permissions.py``: every action, for anonymous,
a stranger, the treasure's owner (no longer a member), a viewer, an editor
and an owner of its project, and an admin; each by session, by a token with
the scope the action needs, by a token without it, and by a token (with the
scope) restricted to another project. (The admin's tokens all hold the
``admin`` scope; an admin's token without it is tested separately.)

``S`` marks ``403 insufficient_scope``; ``F`` a plain 403 (no challenge).
"""
from __future__ import annotations

import itertools

import pytest
import webtest

from ..factories import PASSWORD

S, F = "403-scope", "403"
ACTORS = ("anonymous", "stranger", "owner", "viewer", "editor", "powner", "admin")
CREDENTIALS = ("session", "token", "token-without-scope", "token-elsewhere")
_names = itertools.count()


def row(anonymous, stranger, owner, viewer, editor, powner, admin):
    return dict(zip(ACTORS, (anonymous, stranger, owner, viewer, editor, powner, admin), strict=True))


def same_for_all(status):
    return row(*([status] * 7))


# action: (scope the token needs, {credential: expected row})
TABLE = {
    "view published treasure": (None, {
        "session": same_for_all(200),
        "token": same_for_all(200),
        "token-without-scope": same_for_all(200),
        "token-elsewhere": same_for_all(200),
    }),
    "view unpublished treasure": ("treasure:read", {
        "session": row(404, 404, 200, 200, 200, 200, 200),
        "token": row(404, 404, 200, 200, 200, 200, 200),
        "token-without-scope": row(404, 404, S, S, S, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "create treasure": ("treasure:create", {
        "session": row(401, 201, 201, 201, 201, 201, 201),
        "token": row(401, 201, 201, 201, 201, 201, 201),
        "token-without-scope": row(401, S, S, S, S, S, S),
        "token-elsewhere": row(401, 201, 201, 201, 201, 201, 201),
    }),
    "create treasure in project": ("treasure:create", {
        "session": row(404, 404, 404, F, 201, 201, 201),
        "token": row(404, 404, 404, F, 201, 201, 201),
        "token-without-scope": row(404, 404, 404, F, S, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "create treasure naming the project": ("treasure:create", {
        "session": row(401, 422, 422, F, 201, 201, 201),
        "token": row(401, 422, 422, F, 201, 201, 201),
        "token-without-scope": row(401, S, S, S, S, S, S),
        "token-elsewhere": row(401, 422, 422, 422, 422, 422, 422),
    }),
    "edit unpublished treasure": ("treasure:edit", {
        "session": row(404, 404, 200, F, 200, 200, 200),
        "token": row(404, 404, 200, F, 200, 200, 200),
        "token-without-scope": row(404, 404, S, F, S, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "edit published treasure": ("treasure:edit", {
        "session": row(401, F, 200, F, 200, 200, 200),
        "token": row(401, F, 200, F, 200, 200, 200),
        "token-without-scope": row(401, F, S, F, S, S, S),
        "token-elsewhere": row(401, F, F, F, F, F, F),
    }),
    "delete unpublished treasure": ("treasure:delete", {
        "session": row(404, 404, 204, F, F, 204, 204),
        "token": row(404, 404, 204, F, F, 204, 204),
        "token-without-scope": row(404, 404, S, F, F, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "create project": ("project:admin", {
        "session": row(401, 201, 201, 201, 201, 201, 201),
        "token": row(401, 201, 201, 201, 201, 201, 201),
        "token-without-scope": row(401, S, S, S, S, S, S),
        "token-elsewhere": row(401, F, F, F, F, F, F),
    }),
    "list projects": ("project:read", {
        "session": row(401, 200, 200, 200, 200, 200, 200),
        "token": row(401, 200, 200, 200, 200, 200, 200),
        "token-without-scope": row(401, S, S, S, S, S, S),
        "token-elsewhere": row(401, 200, 200, 200, 200, 200, 200),
    }),
    "view project": ("project:read", {
        "session": row(404, 404, 404, 200, 200, 200, 200),
        "token": row(404, 404, 404, 200, 200, 200, 200),
        "token-without-scope": row(404, 404, 404, S, S, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "view members": ("project:read", {
        "session": row(404, 404, 404, 200, 200, 200, 200),
        "token": row(404, 404, 404, 200, 200, 200, 200),
        "token-without-scope": row(404, 404, 404, S, S, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "list project treasures": ("project:read", {
        "session": row(404, 404, 404, 200, 200, 200, 200),
        "token": row(404, 404, 404, 200, 200, 200, 200),
        "token-without-scope": row(404, 404, 404, S, S, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "edit project": ("project:admin", {
        "session": row(404, 404, 404, F, F, 200, 200),
        "token": row(404, 404, 404, F, F, 200, 200),
        "token-without-scope": row(404, 404, 404, F, F, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "add member": ("project:admin", {
        "session": row(404, 404, 404, F, F, 201, 201),
        "token": row(404, 404, 404, F, F, 201, 201),
        "token-without-scope": row(404, 404, 404, F, F, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "delete project": ("project:admin", {
        "session": row(404, 404, 404, F, F, 204, 204),
        "token": row(404, 404, 404, F, F, 204, 204),
        "token-without-scope": row(404, 404, 404, F, F, S, S),
        "token-elsewhere": same_for_all(404),
    }),
    "view a profile": ("user:read", {
        "session": row(401, 200, 200, 200, 200, 200, 200),
        "token": row(401, 200, 200, 200, 200, 200, 200),
        "token-without-scope": row(401, S, S, S, S, S, S),
        "token-elsewhere": row(401, 200, 200, 200, 200, 200, 200),
    }),
    "find a user": ("user:read", {
        "session": row(401, 200, 200, 200, 200, 200, 200),
        "token": row(401, 200, 200, 200, 200, 200, 200),
        "token-without-scope": row(401, S, S, S, S, S, S),
        "token-elsewhere": row(401, 200, 200, 200, 200, 200, 200),
    }),
    "edit own profile": ("user:edit", {
        "session": row(401, 200, 200, 200, 200, 200, 200),
        "token": row(401, 200, 200, 200, 200, 200, 200),
        "token-without-scope": row(401, S, S, S, S, S, S),
        "token-elsewhere": row(401, 200, 200, 200, 200, 200, 200),
    }),
    "edit another profile": ("user:edit", {
        "session": row(401, F, F, F, F, F, 200),
        "token": row(401, F, F, F, F, F, 200),
        "token-without-scope": row(401, F, F, F, F, F, S),
        "token-elsewhere": row(401, F, F, F, F, F, 200),
    }),
    "ask who is calling": (None, {
        "session": row(401, 200, 200, 200, 200, 200, 200),
        "token": row(401, 200, 200, 200, 200, 200, 200),
        "token-without-scope": row(401, 200, 200, 200, 200, 200, 200),
        "token-elsewhere": row(401, 200, 200, 200, 200, 200, 200),
    }),
}


class World:
    """Users in every role of project ``erebor``, treasures, and credentials."""

    def __init__(self, factory, app) -> None:
        self.factory = factory
        self.app = app
        users = {name: factory.user(username=f"{name}{next(_names)}", is_admin=name == "admin")
                 for name in ACTORS if name != "anonymous"}
        self.users = users
        self.target = factory.user(username=f"target{next(_names)}")
        self.project = factory.project(slug=f"erebor-{next(_names)}", members={
            users["viewer"]: "viewer", users["editor"]: "editor", users["powner"]: "owner",
        })
        self.elsewhere = factory.project(slug=f"angband-{next(_names)}")
        self.published = factory.treasure(users["owner"], project=self.project, is_published=True)
        self.unpublished = factory.treasure(users["owner"], project=self.project)
        self.browsers = {}

    def client(self, actor: str, credential: str, scope: str | None):
        """(TestApp, extra headers) for ``actor`` using ``credential``."""
        app = webtest.TestApp(self.app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
        if actor == "anonymous":
            return app, {}
        user = self.users[actor]
        if credential == "session":
            csrf = app.post_json("/api/login", {"email": user.email, "password": PASSWORD}).json["csrf_token"]
            return app, {"X-CSRF-Token": csrf}
        scopes = [] if credential == "token-without-scope" or scope is None else [scope]
        if user.is_admin:
            # An admin's token uses admin rights only with the admin scope; what
            # it does without is tested on its own below.
            scopes.append("admin")
        projects = [self.elsewhere] if credential == "token-elsewhere" else None
        _row, secret = self.factory.token(user, scopes=scopes, projects=projects)
        return app, {"Authorization": f"Bearer {secret}"}


def perform(world: World, action: str, actor: str, app, headers):
    p = world.project.slug
    new_slug = f"new-{next(_names)}"
    if action == "view published treasure":
        return app.get(f"/api/treasures/{world.published.id}", headers=headers, status="*")
    if action == "view unpublished treasure":
        return app.get(f"/api/treasures/{world.unpublished.id}", headers=headers, status="*")
    if action == "create treasure":
        return app.post_json("/api/treasures", {"name": "Cup"}, headers=headers, status="*")
    if action == "create treasure in project":
        return app.post_json(f"/api/projects/{p}/treasures", {"name": "Cup"}, headers=headers, status="*")
    if action == "create treasure naming the project":
        return app.post_json("/api/treasures", {"name": "Cup", "project": p}, headers=headers, status="*")
    if action == "edit unpublished treasure":
        return app.patch_json(f"/api/treasures/{world.unpublished.id}", {"value": 5},
                              headers=headers, status="*")
    if action == "edit published treasure":
        return app.patch_json(f"/api/treasures/{world.published.id}", {"value": 5},
                              headers=headers, status="*")
    if action == "delete unpublished treasure":
        doomed = world.factory.treasure(world.users["owner"], project=world.project)
        return app.delete(f"/api/treasures/{doomed.id}", headers=headers, status="*")
    if action == "create project":
        return app.post_json("/api/projects", {"slug": new_slug, "name": "New"}, headers=headers, status="*")
    if action == "list projects":
        return app.get("/api/projects", headers=headers, status="*")
    if action == "view project":
        return app.get(f"/api/projects/{p}", headers=headers, status="*")
    if action == "view members":
        return app.get(f"/api/projects/{p}/members", headers=headers, status="*")
    if action == "list project treasures":
        return app.get(f"/api/projects/{p}/treasures", headers=headers, status="*")
    if action == "edit project":
        return app.patch_json(f"/api/projects/{p}", {"name": "Erebor"}, headers=headers, status="*")
    if action == "add member":
        newcomer = world.factory.user(username=f"newcomer{next(_names)}")
        return app.put_json(f"/api/projects/{p}/members/{newcomer.id}", {"role": "viewer"},
                            headers=headers, status="*")
    if action == "delete project":
        users = world.users
        doomed = world.factory.project(slug=new_slug, members={
            users["viewer"]: "viewer", users["editor"]: "editor", users["powner"]: "owner",
        })
        return app.delete(f"/api/projects/{doomed.slug}", headers=headers, status="*")
    if action == "view a profile":
        return app.get(f"/api/users/{world.target.id}", headers=headers, status="*")
    if action == "find a user":
        return app.get(f"/api/users?username={world.target.username}", headers=headers, status="*")
    if action == "edit own profile":
        user_id = world.users[actor].id if actor != "anonymous" else world.target.id
        username = world.users[actor].username if actor != "anonymous" else "x"
        return app.patch_json(f"/api/users/{user_id}", {"username": username}, headers=headers, status="*")
    if action == "edit another profile":
        return app.patch_json(f"/api/users/{world.target.id}", {"username": world.target.username},
                              headers=headers, status="*")
    if action == "ask who is calling":
        return app.get("/api/me", headers=headers, status="*")
    raise AssertionError(action)


def outcome(response) -> int | str:
    if response.status_int == 403:
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.json.get("error") == "insufficient_scope":
            assert 'error="insufficient_scope"' in challenge
            return S
        assert not challenge, "a role refusal carries no challenge"
        return F
    if response.status_int == 401:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="dragonhoard"'
    return response.status_int


@pytest.mark.parametrize("action", list(TABLE))
def test_the_permission_table(action, app_factory, factory, clean_database):
    world = World(factory, app_factory())
    scope, expected = TABLE[action]
    mismatches = []
    for credential in CREDENTIALS:
        for actor in ACTORS:
            if actor == "anonymous" and credential != "session":
                continue
            app, headers = world.client(actor, credential, scope)
            got = outcome(perform(world, action, actor, app, headers))
            want = expected[credential][actor]
            if got != want:
                mismatches.append(f"{credential:20} {actor:10} expected {want}, got {got}")
    assert not mismatches, f"{action}:\n" + "\n".join(mismatches)


def test_an_admins_token_without_the_admin_scope_acts_as_a_plain_user(app_factory, factory,
                                                                        clean_database):
    world = World(factory, app_factory())
    admin = world.users["admin"]
    _row, secret = factory.token(admin, scopes=["treasure:read", "project:read", "user:read"])
    app = webtest.TestApp(world.app)
    headers = {"Authorization": f"Bearer {secret}"}
    app.get(f"/api/treasures/{world.unpublished.id}", headers=headers, status=404)
    app.get(f"/api/projects/{world.project.slug}", headers=headers, status=404)
    profile = app.get(f"/api/users/{world.target.id}", headers=headers).json
    assert "email" not in profile
    assert app.get("/api/projects", headers=headers).json["total"] == 0
    _row, secret = factory.token(admin, scopes=["treasure:read", "project:read", "user:read", "admin"])
    headers = {"Authorization": f"Bearer {secret}"}
    app.get(f"/api/treasures/{world.unpublished.id}", headers=headers)
    assert "email" in app.get(f"/api/users/{world.target.id}", headers=headers).json
    assert app.get("/api/projects", headers=headers).json["total"] == 2


def test_the_admin_scope_grants_nothing_to_a_user_who_is_not_an_admin(app_factory, factory,
                                                                        clean_database, dbsession):
    world = World(factory, app_factory())
    admin = world.users["admin"]
    _row, secret = factory.token(admin, scopes=["treasure:read", "admin"])
    admin.is_admin = False
    dbsession.commit()
    app = webtest.TestApp(world.app)
    app.get(f"/api/treasures/{world.unpublished.id}", headers={"Authorization": f"Bearer {secret}"},
            status=404)

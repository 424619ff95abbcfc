"""Projects and members through the JSON API; the last-owner rule."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from dragonhoard.models import Membership, Project, Treasure

from ..helpers import login


@pytest.fixture
def owner(testapp, factory):
    user = factory.user()
    return testapp, user, {"X-CSRF-Token": login(testapp, user)}


def test_create_list_view_edit_delete(owner, factory, dbsession):
    testapp, user, headers = owner
    created = testapp.post_json("/api/projects", {"slug": "erebor", "name": "Erebor"},
                                headers=headers, status=201).json
    assert set(created) == {"slug", "name", "description", "created_at", "role", "require_mfa"}
    assert created["role"] == "owner" and created["description"] == ""
    listed = testapp.get("/api/projects").json
    assert [(p["slug"], p["role"]) for p in listed["items"]] == [("erebor", "owner")]
    assert testapp.get("/api/projects/erebor").json["name"] == "Erebor"
    edited = testapp.patch_json("/api/projects/erebor", {"description": "Gold"}, headers=headers).json
    assert edited["description"] == "Gold" and edited["name"] == "Erebor"
    testapp.patch_json("/api/projects/erebor", {"slug": "moria"}, headers=headers, status=422)
    project = dbsession.scalars(select(Project)).one()
    factory.treasure(user, project=project)
    testapp.delete("/api/projects/erebor", headers=headers, status=204)
    testapp.get("/api/projects/erebor", status=404)
    dbsession.expire_all()
    assert dbsession.scalars(select(Treasure.id)).all() == []
    assert dbsession.scalars(select(Membership.user_id)).all() == []


@pytest.mark.parametrize("body, field", [
    ({"slug": "A", "name": "x"}, "slug"), ({"slug": "-x", "name": "x"}, "slug"),
    ({"slug": "a" * 41, "name": "x"}, "slug"), ({"slug": "ok-slug"}, "name"),
    ({"slug": "ok-slug", "name": " "}, "name"),
])
def test_create_validation(owner, body, field):
    testapp, _user, headers = owner
    assert field in testapp.post_json("/api/projects", body, headers=headers, status=422).json["fields"]


def test_duplicate_slug_is_409(owner, factory):
    testapp, _user, headers = owner
    factory.project(slug="erebor")
    response = testapp.post_json("/api/projects", {"slug": "erebor", "name": "x"}, headers=headers,
                                 status=409)
    assert "slug" in response.json["fields"]


def test_an_admin_lists_every_project(testapp, factory):
    admin = factory.user(is_admin=True)
    member = factory.project(slug="mine", members={admin: "viewer"})
    factory.project(slug="theirs")
    login(testapp, admin)
    roles = {p["slug"]: p["role"] for p in testapp.get("/api/projects").json["items"]}
    assert roles == {"mine": "viewer", "theirs": None}
    assert member.slug == "mine"


def test_members(owner, factory):
    testapp, user, headers = owner
    factory.project(slug="erebor", members={user: "owner"})
    newcomer = factory.user(username="Bard")
    added = testapp.put_json(f"/api/projects/erebor/members/{newcomer.id}", {"role": "viewer"},
                             headers=headers, status=201).json
    assert added == {"user_id": newcomer.id, "username": "Bard", "role": "viewer"}
    changed = testapp.put_json(f"/api/projects/erebor/members/{newcomer.id}", {"role": "editor"},
                               headers=headers, status=200).json
    assert changed["role"] == "editor"
    testapp.put_json(f"/api/projects/erebor/members/{newcomer.id}", {"role": "editor"},
                     headers=headers, status=200)
    members = testapp.get("/api/projects/erebor/members").json
    assert {(m["username"], m["role"]) for m in members["items"]} == {("Bard", "editor"),
                                                                      (user.username, "owner")}
    testapp.put_json(f"/api/projects/erebor/members/{newcomer.id}", {"role": "king"},
                     headers=headers, status=422)
    testapp.put_json("/api/projects/erebor/members/999999", {"role": "viewer"}, headers=headers,
                     status=404)
    testapp.delete(f"/api/projects/erebor/members/{newcomer.id}", headers=headers, status=204)
    testapp.delete(f"/api/projects/erebor/members/{newcomer.id}", headers=headers, status=404)


def test_the_last_owner_cannot_leave_or_be_demoted(owner, factory):
    testapp, user, headers = owner
    factory.project(slug="erebor", members={user: "owner"})
    response = testapp.put_json(f"/api/projects/erebor/members/{user.id}", {"role": "editor"},
                                headers=headers, status=409)
    assert response.json["error"] == "conflict"
    testapp.delete(f"/api/projects/erebor/members/{user.id}", headers=headers, status=409)
    second = factory.user()
    testapp.put_json(f"/api/projects/erebor/members/{second.id}", {"role": "owner"}, headers=headers,
                     status=201)
    testapp.put_json(f"/api/projects/erebor/members/{user.id}", {"role": "editor"}, headers=headers)


def test_demotion_waits_for_the_project_lock(testapp, factory, database, dbsession):
    """Two owners demoting each other at once: the second waits for the first
    (SELECT ... FOR UPDATE on the project; on SQLite, the database's write
    lock, taken before counting) and then sees one owner left."""
    first, second = factory.user(), factory.user()
    project = factory.project(slug="erebor", members={first: "owner", second: "owner"})
    csrf = login(testapp, second)
    outcome = {}
    with database.engine.connect() as other:
        # "first" demotes "second" and holds the project row until it commits
        # (SQLite: the write itself holds the write lock until then).
        if database.backend == "postgresql":
            other.execute(text("SELECT id FROM projects WHERE id = :id FOR UPDATE"), {"id": project.id})
        other.execute(text("UPDATE memberships SET role = 'editor' WHERE project_id = :p AND user_id = :u"),
                      {"p": project.id, "u": second.id})

        def demote_first():
            outcome["response"] = testapp.put_json(
                f"/api/projects/erebor/members/{first.id}", {"role": "editor"},
                headers={"X-CSRF-Token": csrf}, status="*")

        worker = threading.Thread(target=demote_first)
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive(), "the request should wait for the project's lock"
        other.commit()
    worker.join(timeout=10)
    # After the wait, "first" is the only owner left: demoting them is refused.
    assert outcome["response"].status_int == 409
    owners = dbsession.scalars(
        select(Membership.user_id).where(Membership.project_id == project.id, Membership.role == "owner")
    ).all()
    assert owners == [first.id]

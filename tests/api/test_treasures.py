"""Treasures through the JSON API: shapes, validation, filters, pagination."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dragonhoard.models import Treasure

from ..helpers import bearer, login

KEYS = {"id", "name", "description", "value", "cool_factor", "is_published", "owner_id", "project",
        "plundered_at", "created_at"}


@pytest.fixture
def caller(testapp, factory):
    user = factory.user()
    return testapp, user, {"X-CSRF-Token": login(testapp, user)}


def test_create_with_defaults_read_edit_delete(caller, clock, dbsession):
    testapp, user, headers = caller
    created = testapp.post_json("/api/treasures", {"name": "Cup"}, headers=headers, status=201).json
    assert set(created) == KEYS
    assert created["description"] == "" and created["value"] == 0 and created["cool_factor"] == 0
    assert created["is_published"] is False and created["project"] is None
    assert created["owner_id"] == user.id
    stamp = clock.at.strftime("%Y-%m-%dT%H:%M:%S")
    assert created["plundered_at"].startswith(stamp) and created["created_at"].startswith(stamp)
    assert created["plundered_at"].endswith("Z")

    got = testapp.get(f"/api/treasures/{created['id']}").json
    assert got == created
    edited = testapp.patch_json(f"/api/treasures/{created['id']}",
                                {"value": 7, "plundered_at": "2026-01-01T12:00:00+02:00"},
                                headers=headers).json
    assert edited["value"] == 7 and edited["plundered_at"] == "2026-01-01T10:00:00Z"
    assert testapp.get(f"/api/treasures/{created['id']}").json == edited
    testapp.delete(f"/api/treasures/{created['id']}", headers=headers, status=204)
    testapp.get(f"/api/treasures/{created['id']}", status=404)
    assert dbsession.scalars(select(Treasure.id)).all() == []


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": "x"}, "name"),
    ({"name": "y" * 51}, "name"),
    ({"name": "Cup", "value": -1}, "value"),
    ({"name": "Cup", "value": "5"}, "value"),
    ({"name": "Cup", "value": 1.5}, "value"),
    ({"name": "Cup", "cool_factor": 11}, "cool_factor"),
    ({"name": "Cup", "is_published": "yes"}, "is_published"),
    ({"name": "Cup", "plundered_at": "2026-01-01T00:00:00"}, "plundered_at"),
    ({"name": "Cup", "id": 5}, "id"),
    ({"name": "Cup", "owner_id": 5}, "owner_id"),
    ({"name": "Cup", "created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ({"name": "Cup", "project": "nowhere"}, "project"),
])
def test_create_validation(caller, dbsession, body, field):
    testapp, _user, headers = caller
    response = testapp.post_json("/api/treasures", body, headers=headers, status=422)
    assert field in response.json["fields"]
    assert dbsession.scalars(select(Treasure.id)).all() == []


@pytest.mark.parametrize("body, field", [
    ({"project": "erebor"}, "project"),
    ({"owner_id": 1}, "owner_id"),
    ({"id": 1}, "id"),
    ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ({"name": None}, "name"),
    ({"value": None}, "value"),
])
def test_edit_refuses_read_only_fields(caller, factory, body, field):
    testapp, user, headers = caller
    treasure = factory.treasure(user, value=3)
    response = testapp.patch_json(f"/api/treasures/{treasure.id}", body, headers=headers, status=422)
    assert field in response.json["fields"]
    assert testapp.get(f"/api/treasures/{treasure.id}").json["value"] == 3


def test_create_in_a_project_by_name(caller, factory):
    testapp, user, headers = caller
    project = factory.project(slug="erebor", members={user: "editor"})
    created = testapp.post_json("/api/treasures", {"name": "Cup", "project": "erebor"},
                                headers=headers, status=201).json
    assert created["project"] == "erebor"
    listed = testapp.get("/api/projects/erebor/treasures").json
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert project.id


def test_list_order_filters_and_pagination(caller, factory, clock):
    testapp, user, headers = caller
    other = factory.user()
    project = factory.project(slug="erebor", members={user: "viewer", other: "owner"})
    hidden = factory.project(slug="angband", members={other: "owner"})
    made = []
    for n in range(5):
        made.append(factory.treasure(user, name=f"Mine {n}", created_at=clock.at + timedelta(seconds=n)))
    factory.treasure(other, name="Theirs in erebor", project=project,
                     created_at=clock.at + timedelta(seconds=10))
    factory.treasure(other, name="Secret", project=hidden, created_at=clock.at + timedelta(seconds=11))
    factory.treasure(other, name="Public", project=hidden, is_published=True,
                     created_at=clock.at + timedelta(seconds=12))
    body = testapp.get("/api/treasures").json
    assert [i["name"] for i in body["items"]] == [
        "Public", "Theirs in erebor", "Mine 4", "Mine 3", "Mine 2", "Mine 1", "Mine 0"]
    assert (body["total"], body["page"], body["per_page"]) == (7, 1, 20)
    page = testapp.get("/api/treasures?per_page=2&page=2").json
    assert [i["name"] for i in page["items"]] == ["Mine 4", "Mine 3"] and page["total"] == 7
    assert testapp.get("/api/treasures?page=9").json == {"items": [], "page": 9, "per_page": 20, "total": 7}
    assert testapp.get("/api/treasures?per_page=500").json["per_page"] == 100
    assert testapp.get(f"/api/treasures?owner={other.id}").json["total"] == 2
    assert testapp.get("/api/treasures?project=erebor").json["total"] == 1
    assert [i["name"] for i in testapp.get("/api/treasures?project=angband").json["items"]] == ["Public"]
    assert testapp.get("/api/treasures?project=nowhere").json["total"] == 0
    assert testapp.get("/api/treasures?is_published=true").json["total"] == 1
    assert testapp.get("/api/treasures?is_published=false").json["total"] == 6
    for query in ("owner=abc", "is_published=yes", "page=0", "per_page=-1", "page=x"):
        testapp.get(f"/api/treasures?{query}", status=422)
    assert made


def test_ties_in_time_are_ordered_by_id(caller, factory, clock):
    testapp, user, _headers = caller
    ids = [factory.treasure(user, created_at=clock.at).id for _ in range(3)]
    assert [i["id"] for i in testapp.get("/api/treasures").json["items"]] == sorted(ids, reverse=True)


def test_a_restricted_token_sees_its_projects_and_own_projectless_treasures(testapp, factory):
    me = factory.user()
    admin_like = factory.user(is_admin=True)
    allowed = factory.project(slug="erebor", members={me: "viewer"})
    other = factory.project(slug="angband", members={me: "owner"})
    in_allowed = factory.treasure(admin_like, project=allowed)
    factory.treasure(me, project=other)
    published_other = factory.treasure(admin_like, project=other, is_published=True)
    my_own = factory.treasure(me)
    factory.treasure(admin_like)  # someone else's project-less treasure
    _row, secret = factory.token(me, scopes=["treasure:read"], projects=[allowed])
    names = {i["id"] for i in testapp.get("/api/treasures", headers=bearer(secret)).json["items"]}
    assert names == {in_allowed.id, published_other.id, my_own.id}
    testapp.get(f"/api/treasures/{published_other.id}", headers=bearer(secret))


def test_a_token_without_treasure_read_lists_published_only(testapp, factory):
    me = factory.user()
    factory.treasure(me, name="Private")
    factory.treasure(me, name="Public", is_published=True)
    _row, secret = factory.token(me, scopes=[])
    names = [i["name"] for i in testapp.get("/api/treasures", headers=bearer(secret)).json["items"]]
    assert names == ["Public"]

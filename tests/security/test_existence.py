"""A hidden row and a missing one answer byte for byte the same (DESIGN section 5,
step 1): status, headers and body, on every route that names a row, for
anonymous callers, strangers (session and token) and restricted tokens."""
from __future__ import annotations

import json

import pytest

from dragonhoard.models.meta import MAX_ID
from dragonhoard.security.permissions import USER_SCOPES

from ..helpers import bearer, login

MISSING_SLUG = "no-such-project"
MISSING_ID = MAX_ID

#: (method, path template, JSON body or None). {treasure}, {project} and
#: {member} are filled with a hidden row's key or a missing one.
ROUTES = [
    ("GET", "/api/treasures/{treasure}", None),
    ("PATCH", "/api/treasures/{treasure}", {"name": "Mine now"}),
    ("DELETE", "/api/treasures/{treasure}", None),
    ("GET", "/api/projects/{project}", None),
    ("PATCH", "/api/projects/{project}", {"name": "Mine now"}),
    ("DELETE", "/api/projects/{project}", None),
    ("GET", "/api/projects/{project}/members", None),
    ("PUT", "/api/projects/{project}/members/{member}", {"role": "owner"}),
    ("DELETE", "/api/projects/{project}/members/{member}", None),
    ("GET", "/api/projects/{project}/treasures", None),
    ("POST", "/api/projects/{project}/treasures", {"name": "Sneaked in"}),
]


@pytest.fixture
def world(factory):
    owner = factory.user()
    stranger = factory.user()
    project = factory.project(members={owner: "owner"})
    other = factory.project(members={stranger: "owner"})
    treasure = factory.treasure(owner, project=project)
    return owner, stranger, project, other, treasure


def callers(testapp, factory, stranger, other_project):
    """(name, headers) for every caller that must not see the hidden rows."""
    _row, every = factory.token(stranger, scopes=sorted(USER_SCOPES))
    _row, restricted = factory.token(stranger, scopes=sorted(USER_SCOPES), projects=[other_project])
    yield "anonymous", {}
    yield "stranger token", bearer(every)
    yield "restricted token", bearer(restricted)
    csrf = login(testapp, stranger)
    yield "stranger session", {"X-CSRF-Token": csrf}


def send(testapp, method: str, path: str, body, headers):
    if body is None:
        return testapp.request(path, method=method, headers=headers, expect_errors=True)
    return testapp.request(path, method=method, body=json.dumps(body).encode(), expect_errors=True,
                           headers=dict(headers, **{"Content-Type": "application/json"}))


def answer(response) -> tuple:
    return response.status, sorted(response.headerlist), response.body


def test_hidden_and_missing_rows_answer_alike(testapp, factory, world):
    owner, stranger, project, other, treasure = world
    hidden = {"treasure": treasure.id, "project": project.slug, "member": owner.id}
    missing = {"treasure": MISSING_ID, "project": MISSING_SLUG, "member": owner.id}
    for who, headers in callers(testapp, factory, stranger, other):
        for method, template, body in ROUTES:
            seen = send(testapp, method, template.format(**hidden), body, headers)
            absent = send(testapp, method, template.format(**missing), body, headers)
            if who == "anonymous" and method == "GET" and "members" not in template:
                assert seen.status_int == 404, (who, method, template)
            assert seen.status_int < 500, (who, method, template, seen.status)
            assert answer(seen) == answer(absent), (who, method, template)


def test_a_restricted_tokens_unlisted_project_looks_missing_even_to_its_owner(testapp, factory, world):
    owner, _stranger, project, other, treasure = world
    _row, restricted = factory.token(owner, scopes=sorted(USER_SCOPES), projects=[other])
    for method, template, body in ROUTES:
        seen = send(testapp, method, template.format(treasure=treasure.id, project=project.slug,
                                                     member=owner.id), body, bearer(restricted))
        absent = send(testapp, method, template.format(treasure=MISSING_ID, project=MISSING_SLUG,
                                                       member=owner.id), body, bearer(restricted))
        assert seen.status_int == 404 and answer(seen) == answer(absent), (method, template)


def test_another_users_token_and_session_look_missing(testapp, factory, world):
    owner, stranger, _project, _other, _treasure = world
    theirs, _secret = factory.token(owner)
    their_session, _cookie = factory.login_session(owner)
    csrf = login(testapp, stranger)
    headers = {"X-CSRF-Token": csrf}
    for method, template in [("DELETE", "/api/tokens/{}"), ("POST", "/api/tokens/{}/rotate"),
                             ("DELETE", "/api/sessions/{}")]:
        row_id = their_session.id if "sessions" in template else theirs.id
        seen = testapp.request(template.format(row_id), method=method, headers=headers,
                               expect_errors=True)
        absent = testapp.request(template.format(MISSING_ID), method=method, headers=headers,
                                 expect_errors=True)
        assert seen.status_int == 404 and answer(seen) == answer(absent), template
    for method in ("GET", "POST"):
        seen = testapp.request(f"/tokens/{theirs.id}/revoke", method=method, expect_errors=True,
                               POST={"csrf_token": csrf} if method == "POST" else None)
        absent = testapp.request(f"/tokens/{MISSING_ID}/revoke", method=method, expect_errors=True,
                                 POST={"csrf_token": csrf} if method == "POST" else None)
        assert seen.status_int == 404 and answer(seen) == answer(absent), method


def test_a_member_put_for_an_unknown_user_and_a_delete_of_a_non_member_say_the_same(testapp, factory,
                                                                                   world):
    owner, stranger, project, _other, _treasure = world
    csrf = login(testapp, owner)
    headers = {"X-CSRF-Token": csrf}
    unknown = testapp.put_json(f"/api/projects/{project.slug}/members/{MISSING_ID}", {"role": "viewer"},
                               headers=headers, status=404)
    not_member = testapp.delete(f"/api/projects/{project.slug}/members/{stranger.id}", headers=headers,
                                status=404)
    assert unknown.body == not_member.body

"""Check-then-act races through HTTP (DESIGN sections 2, 3 and 13).

Requests are released together by a barrier, round after round, and the rule
they race on is checked after every round. Each thread has a browser of its
own (a TestApp with its own session cookie); all share one app, so one pool
of database connections, as waitress's threads do.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from sqlalchemy import delete, func, or_, select, update

from dragonhoard import clock
from dragonhoard.models import ApiToken, Membership

from .helpers import login

THREADS = 4
ROUNDS = 25


def together(calls) -> list:
    """The responses of ``calls``, all started at the same moment."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=60) for future in futures]


def browser(make_testapp, user):
    """A browser of its own, logged in as ``user`` (sudo window open)."""
    app = make_testapp()
    return app, {"X-CSRF-Token": login(app, user)}


def statuses(responses) -> list[int]:
    found = sorted(response.status_int for response in responses)
    assert all(status < 500 for status in found), found
    return found


@pytest.fixture
def db(dbsession):
    """The test's session; each check ends its transaction, so that the next
    one reads what the app committed since."""
    yield dbsession
    dbsession.rollback()


def owners_of(dbsession, project_id: int) -> int:
    count = dbsession.scalar(
        select(func.count()).where(Membership.project_id == project_id, Membership.role == "owner")
    )
    dbsession.commit()
    return count


def live_tokens(dbsession, owner_id: int, **where) -> list[int]:
    now = clock.now()
    query = select(ApiToken.id).where(
        ApiToken.owner_id == owner_id,
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        *(getattr(ApiToken, name) == value for name, value in where.items()),
    )
    ids = dbsession.scalars(query).all()
    dbsession.commit()
    return ids


def test_owners_leaving_at_once_leave_one_owner(make_testapp, factory, db):
    """Every owner demotes or removes themself at once: one of them is
    refused (409), so the project keeps exactly one owner."""
    users = [factory.user() for _ in range(THREADS)]
    project = factory.project(slug="erebor")
    browsers = [(user, *browser(make_testapp, user)) for user in users]
    for round_ in range(ROUNDS):
        db.execute(delete(Membership).where(Membership.project_id == project.id))
        db.add_all(Membership(project_id=project.id, user_id=user.id, role="owner") for user in users)
        db.commit()
        calls = []
        for n, (user, app, headers) in enumerate(browsers):
            path = f"/api/projects/erebor/members/{user.id}"
            if n % 2:
                calls.append(partial(app.delete, path, headers=headers, status="*"))
            else:
                calls.append(partial(app.put_json, path, {"role": "editor"}, headers=headers,
                                     status="*"))
        found = statuses(together(calls))
        assert owners_of(db, project.id) == 1, (round_, found)
        assert found.count(409) == 1 and set(found) <= {200, 204, 409}, (round_, found)


def test_tokens_created_at_once_get_one_live_name(make_testapp, factory, db):
    """Creations of one name at once: one 201, the rest 409, one live token."""
    user = factory.user()
    browsers = [browser(make_testapp, user) for _ in range(THREADS)]
    for round_ in range(ROUNDS):
        responses = together([
            partial(app.post_json, "/api/tokens", {"name": "deploy"}, headers=headers, status="*")
            for app, headers in browsers
        ])
        found = statuses(responses)
        live = live_tokens(db, user.id, name="deploy")
        assert len(live) == 1, (round_, found)
        assert found == [201] + [409] * (THREADS - 1), (round_, found)
        # Revoked tokens do not hold the name: the next round may take it again.
        db.execute(update(ApiToken).where(ApiToken.id == live[0]).values(revoked_at=clock.now()))
        db.commit()


def test_rotations_at_once_give_one_successor(make_testapp, factory, db):
    """Rotations of one token at once: one 201, the rest 409, and the old
    token has exactly one successor, the only live token of its name."""
    user = factory.user()
    token, _secret = factory.token(user, name="ci")
    current = token.id
    browsers = [browser(make_testapp, user) for _ in range(THREADS)]
    for round_ in range(ROUNDS):
        responses = together([
            partial(app.post, f"/api/tokens/{current}/rotate", headers=headers, status="*")
            for app, headers in browsers
        ])
        found = statuses(responses)
        successors = db.scalars(select(ApiToken.id).where(ApiToken.rotated_from == current)).all()
        assert len(successors) == 1, (round_, found)
        assert live_tokens(db, user.id, name="ci") == successors, (round_, found)
        assert found == [201] + [409] * (THREADS - 1), (round_, found)
        winner = next(response.json for response in responses if response.status_int == 201)
        assert winner["id"] == successors[0] and winner["rotated_from"] == current
        current = winner["id"]

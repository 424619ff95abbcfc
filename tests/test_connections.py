"""A safe request reads on one pooled connection, whatever reads it: the fast
path (authentication, the context) and the ORM share it."""
from __future__ import annotations

from sqlalchemy import event

from dragonhoard import application

from .helpers import bearer, caller_id, login


def checkouts(app, send) -> int:
    engines = {id(e): e for e in (application.of(app.registry).engine,
                                  application.of(app.registry).read_engine)}.values()
    count = []

    def counted(*_args):
        count.append(1)

    for engine in engines:
        event.listen(engine, "checkout", counted)
    try:
        send()
    finally:
        for engine in engines:
            event.remove(engine, "checkout", counted)
    return len(count)


def test_a_get_that_uses_the_fast_path_and_the_orm_uses_one_connection(testapp, factory):
    member = factory.user()
    project = factory.project(members={member: "owner"})
    _row, secret = factory.token(member, scopes=["project:read", "user:read"])
    assert caller_id(testapp, headers=bearer(secret)) == member.id  # last use written
    answers = []
    # Token authentication and the project context (fast path), members (ORM).
    assert checkouts(testapp.app, lambda: answers.append(testapp.get(
        f"/api/projects/{project.slug}/members", headers=bearer(secret)).json)) == 1
    assert answers[0]["items"][0]["user_id"] == member.id
    # Session authentication (fast path), the user's profile (ORM).
    login(testapp, member)
    assert checkouts(testapp.app, lambda: testapp.get(f"/api/users/{member.id}")) == 1

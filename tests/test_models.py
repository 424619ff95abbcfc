"""Constraints the database itself enforces, and timestamps on both backends."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from dragonhoard.models import ApiToken, Membership, Treasure, User

from .factories import PASSWORD_HASH


def new_user(email: str, username: str) -> User:
    user = User(password_hash=PASSWORD_HASH)
    user.set_email(email)
    user.set_username(username)
    return user


def test_an_email_in_another_case_is_refused_by_the_database(dbsession):
    dbsession.add(new_user("Smaug@Erebor.example", "smaug"))
    dbsession.commit()
    dbsession.add(new_user("smaug@EREBOR.example", "smaug2"))
    with pytest.raises(IntegrityError):
        dbsession.commit()
    dbsession.rollback()
    assert dbsession.scalar(select(User.email).where(User.username == "smaug")) == "Smaug@Erebor.example"


def test_emails_fold_beyond_ascii(dbsession):
    dbsession.add(new_user("STRASSE@example.com", "first"))
    dbsession.commit()
    dbsession.add(new_user("straße@example.com", "second"))
    with pytest.raises(IntegrityError):
        dbsession.commit()
    dbsession.rollback()
    dbsession.add(new_user("ÆGIR@example.com", "third"))
    dbsession.commit()
    dbsession.add(new_user("ægir@example.com", "fourth"))
    with pytest.raises(IntegrityError):
        dbsession.commit()


def test_a_username_in_another_case_is_refused(dbsession):
    dbsession.add(new_user("a@example.com", "Glaurung"))
    dbsession.commit()
    dbsession.add(new_user("b@example.com", "glaurung"))
    with pytest.raises(IntegrityError):
        dbsession.commit()


def test_roles_are_checked_by_the_database(dbsession, factory):
    user = factory.user()
    project = factory.project()
    dbsession.add(Membership(project_id=project.id, user_id=user.id, role="king"))
    with pytest.raises(IntegrityError):
        dbsession.commit()


@pytest.mark.parametrize("field, value", [("value", -1), ("cool_factor", 11), ("name", "x")])
def test_treasure_checks(dbsession, factory, field, value):
    owner = factory.user()
    values = {"owner_id": owner.id, "name": "Cup", field: value}
    dbsession.add(Treasure(**values))
    with pytest.raises(IntegrityError):
        dbsession.commit()


def test_token_hashes_are_unique(dbsession, factory):
    owner = factory.user()
    token, _secret = factory.token(owner)
    dbsession.add(ApiToken(owner_id=owner.id, name="copy", token_hash=token.token_hash, display_prefix="dhp_x"))
    with pytest.raises(IntegrityError):
        dbsession.commit()


def test_deleting_a_project_deletes_its_treasures_and_memberships(dbsession, factory):
    owner = factory.user()
    project = factory.project(members={owner: "owner"})
    factory.treasure(owner, project=project)
    kept = factory.treasure(owner)
    dbsession.delete(project)
    dbsession.commit()
    assert dbsession.scalars(select(Treasure.id)).all() == [kept.id]
    assert dbsession.scalars(select(Membership.user_id)).all() == []


def test_timestamps_are_aware_utc_and_compare_as_times(dbsession, factory):
    owner = factory.user()
    # 12:00 at +02:00 is 10:00 UTC: stored and read back as the same instant.
    plundered = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    treasure = factory.treasure(owner, plundered_at=plundered)
    dbsession.expire_all()
    loaded = dbsession.get(Treasure, treasure.id)
    assert loaded.plundered_at == plundered
    assert loaded.plundered_at.utcoffset() == timedelta(0)
    earlier = datetime(2026, 5, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))  # 09:30 UTC
    later = datetime(2026, 5, 1, 11, 30, tzinfo=UTC)
    assert dbsession.scalar(select(Treasure.id).where(Treasure.plundered_at > earlier)) == treasure.id
    assert dbsession.scalar(select(Treasure.id).where(Treasure.plundered_at > later)) is None


def test_naive_timestamps_are_refused(dbsession, factory):
    owner = factory.user()
    dbsession.add(Treasure(owner_id=owner.id, name="Cup", plundered_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError):
        dbsession.commit()


def test_the_treasure_counts_follow_every_change(dbsession, factory):
    from sqlalchemy import func

    from dragonhoard.models import Project, TreasureCounts

    def counts():
        dbsession.expire_all()
        row = dbsession.get(TreasureCounts, 1)
        actual_total = dbsession.scalar(select(func.count()).select_from(Treasure))
        actual_published = dbsession.scalar(
            select(func.count()).select_from(Treasure).where(Treasure.is_published.is_(True)))
        assert (row.total, row.published) == (actual_total, actual_published)
        return row.total, row.published

    start = counts()
    owner = factory.user()
    project = factory.project(members={owner: "owner"})
    a = factory.treasure(owner, is_published=True)
    b = factory.treasure(owner, project=project)
    factory.treasure(owner, project=project, is_published=True)
    assert counts() == (start[0] + 3, start[1] + 2)
    b.is_published = True
    a.is_published = False
    dbsession.commit()
    assert counts() == (start[0] + 3, start[1] + 2)
    a.value = 99  # not a change of publication
    dbsession.commit()
    dbsession.delete(dbsession.get(Project, project.id))  # cascades to two treasures
    dbsession.commit()
    assert counts() == (start[0] + 1, start[1])

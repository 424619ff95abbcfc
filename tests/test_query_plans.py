"""The indexes the hot queries need exist and are the ones PostgreSQL uses.

The test database is small, so sequential scans are switched off: a plan
that still scans a table shows a missing index.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from dragonhoard.db.dialects import PostgresDialect
from dragonhoard.db.queries.auth import SESSION_BY_HASH, TOKEN_BY_HASH
from dragonhoard.db.queries.projects import PROJECT_CONTEXT
from dragonhoard.db.queries.treasures import (
    ADMIN,
    MEMBER,
    NOBODY,
    TREASURE_CONTEXT,
    list_statements,
)
from dragonhoard.db.statements import bind
from dragonhoard.security.identity import Identity
from dragonhoard.services.projects import members_query, projects_query

DIALECT = PostgresDialect()


SEED = """
INSERT INTO users (id, email, email_canonical, username, username_canonical, password_hash,
                   password_changed_at, is_admin, is_active, created_at)
SELECT n, 'u' || n || '@x.example', 'u' || n || '@x.example', 'u' || n, 'u' || n, 'x', now(), false,
       true, now() FROM generate_series(1, 500) AS n;
INSERT INTO projects (id, slug, name, description, created_at)
SELECT n, 'p-' || n, 'P' || n, '', now() FROM generate_series(1, 100) AS n;
INSERT INTO memberships (project_id, user_id, role, created_at)
SELECT n, (n * 7) % 500 + 1, 'owner', now() FROM generate_series(1, 100) AS n;
INSERT INTO treasures (owner_id, project_id, name, description, value, cool_factor, plundered_at,
                       is_published, created_at)
SELECT n % 500 + 1, CASE WHEN n % 2 = 0 THEN n % 100 + 1 END, 'T' || n, '', n, n % 11, now(),
       n % 20 = 0, now() - n * interval '1 second' FROM generate_series(1, 5000) AS n;
INSERT INTO api_tokens (owner_id, name, token_hash, display_prefix, scopes, is_restricted,
                        allowed_networks, created_at)
SELECT n % 500 + 1, 't' || n, md5(n::text) || md5((n + 1)::text), 'dhp_', '', false, '', now()
FROM generate_series(1, 2000) AS n;
INSERT INTO login_sessions (user_id, secret_hash, created_at, last_seen_at, expires_at, user_agent)
SELECT n % 500 + 1, md5(n::text) || md5((n + 2)::text), now(), now(), now(), ''
FROM generate_series(1, 2000) AS n;
ANALYZE;
"""


@pytest.fixture
def explain(database, clean_database):
    """Plans over a database with enough rows for the planner's statistics."""
    if database.backend != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    with database.engine.begin() as conn:
        conn.connection.driver_connection.execute(SEED)

    def plan(sql: str, params: tuple) -> tuple[set[str], set[str]]:
        """(indexes used, tables scanned sequentially)."""
        with database.engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))
            raw = conn.connection.driver_connection
            rows = raw.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
            conn.rollback()
        indexes, scanned = set(), set()

        def walk(node):
            if "Index Name" in node:
                indexes.add(node["Index Name"])
            if node.get("Node Type") == "Seq Scan":
                scanned.add(node["Relation Name"])
            for child in node.get("Plans", ()):
                walk(child)

        walk((rows if isinstance(rows, list) else json.loads(rows))[0]["Plan"])
        return indexes, scanned

    return plan


def hot(statement, **params) -> tuple[str, tuple]:
    """The application's own statement, as the fast path sends it."""
    return bind(statement, DIALECT, params)


def orm(query) -> tuple[str, tuple]:
    """An ORM statement of the application's, as PostgreSQL receives it."""
    compiled = query.compile(dialect=DIALECT.sqlalchemy)
    return compiled.string, tuple(compiled.params[name] for name in compiled.positiontup)


def test_authentication_uses_the_secret_hash_indexes(explain):
    indexes, scanned = explain(*hot(TOKEN_BY_HASH, token_hash="x" * 64))
    assert "uq_api_tokens_token_hash" in indexes and "pk_users" in indexes and not scanned
    indexes, scanned = explain(*hot(SESSION_BY_HASH, secret_hash="x" * 64))
    assert "uq_login_sessions_secret_hash" in indexes and not scanned


def test_contexts_use_primary_keys_and_the_membership_index(explain):
    memberships = {"pk_memberships", "ix_memberships_user_id"}
    token_projects = {"pk_api_token_projects", "ix_api_token_projects_project_id"}
    indexes, scanned = explain(*hot(TREASURE_CONTEXT, id=1, user_id=1, token_id=1))
    assert "pk_treasures" in indexes and not scanned, (indexes, scanned)
    assert indexes & memberships and indexes & token_projects
    indexes, scanned = explain(*hot(PROJECT_CONTEXT, slug="p-1", user_id=1, token_id=1))
    assert "uq_projects_slug" in indexes and indexes & memberships and not scanned


def test_lists_use_the_treasure_indexes(explain):
    page = {"limit": 50, "offset": 0, "uid": 1, "tid": None}
    anonymous, _ = list_statements("postgresql", NOBODY, False, None, None)
    indexes, scanned = explain(*hot(anonymous, **page))
    assert "ix_treasures_published_created" in indexes and not scanned

    member, _ = list_statements("postgresql", MEMBER, False, None, None)
    indexes, scanned = explain(*hot(member, **page))
    assert {"ix_treasures_created", "ix_treasures_owner_created", "ix_treasures_project_created",
            "ix_memberships_user_id"} <= indexes
    assert not scanned

    by_owner, _ = list_statements("postgresql", MEMBER, True, None, None)
    indexes, scanned = explain(*hot(by_owner, owner=1, **page))
    assert "ix_treasures_owner_created" in indexes and not scanned

    of_project, _ = list_statements("postgresql", MEMBER, False, "id", None)
    indexes, scanned = explain(*hot(of_project, project_id=1, **page))
    assert "ix_treasures_project_created" in indexes and not scanned

    admin, _ = list_statements("postgresql", ADMIN, False, None, None)
    indexes, scanned = explain(*hot(admin, **page))
    assert "pk_treasure_counts" in indexes and not scanned


def test_membership_lookups_use_their_indexes(explain):
    member = Identity(user_id=1, username="u1", email="u1@x.example", is_admin=False,
                      created_at=None)
    indexes, scanned = explain(*orm(projects_query(member).limit(20)))
    assert "ix_memberships_user_id" in indexes and not scanned
    indexes, scanned = explain(*orm(members_query(1).limit(20)))
    assert "pk_memberships" in indexes and not scanned


def test_lists_of_a_caller_without_a_second_factor_use_the_indexes_too(explain):
    """Projects that require a second factor are left out through primary keys."""
    page = {"limit": 50, "offset": 0, "uid": 1, "tid": None}
    member, _ = list_statements("postgresql", MEMBER, False, None, None, True)
    indexes, scanned = explain(*hot(member, **page))
    assert {"ix_treasures_created", "ix_treasures_owner_created", "ix_memberships_user_id",
            "pk_projects"} <= indexes
    assert not scanned, scanned

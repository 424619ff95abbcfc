"""Seed a benchmark database: 10,000 users, 1,000 projects with members,
100,000 treasures, 20,000 tokens (some expired or revoked), 2,000 sessions.

Rows go in with COPY; the secrets of the tokens and sessions the load
generator uses are returned (and never stored anywhere but the bench's own
work directory).
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import argon2

from dragonhoard.security import tokens
from dragonhoard.security.permissions import USER_SCOPES

USERS = 10_000
PROJECTS = 1_000
MEMBERS_PER_PROJECT = 5
TREASURES = 100_000
TOKENS = 20_000
SESSIONS = 2_000


@dataclass
class Seeded:
    """What the load generator needs to know about the seeded data."""

    published_ids: list[int] = field(default_factory=list)
    #: (token secret, owner id) of live, unrestricted tokens
    live_tokens: list[tuple[str, int]] = field(default_factory=list)
    #: session cookie secrets
    sessions: list[str] = field(default_factory=list)
    #: (token secret, project slug) for tokens whose owner is a project member
    member_tokens: list[tuple[str, str]] = field(default_factory=list)
    #: (token secret, treasure id) where the token's owner owns the treasure
    writable: list[tuple[str, int]] = field(default_factory=list)


def seed(connection, rng: random.Random | None = None) -> Seeded:
    """Fill an empty, migrated database through a psycopg connection."""
    rng = rng or random.Random(1937)
    now = datetime.now(UTC).replace(microsecond=0)
    out = Seeded()
    password_hash = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(
        "bench-password-not-used"
    )
    with connection.cursor() as cur:
        with cur.copy(
            "COPY users (id, email, email_canonical, username, username_canonical, password_hash,"
            " password_changed_at, is_admin, is_active, created_at) FROM STDIN"
        ) as copy:
            for n in range(1, USERS + 1):
                email = f"dragon{n}@bench.example"
                copy.write_row((n, email, email, f"dragon{n}", f"dragon{n}", password_hash,
                                now - timedelta(days=400), False, True, now - timedelta(days=400)))
        memberships: dict[int, dict[int, str]] = {}
        with cur.copy("COPY projects (id, slug, name, description, created_at) FROM STDIN") as copy:
            for n in range(1, PROJECTS + 1):
                copy.write_row((n, f"project-{n}", f"Project {n}", "", now - timedelta(days=300)))
        with cur.copy("COPY memberships (project_id, user_id, role, created_at) FROM STDIN") as copy:
            for project in range(1, PROJECTS + 1):
                members = rng.sample(range(1, USERS + 1), MEMBERS_PER_PROJECT)
                roles = {members[0]: "owner"}
                for user in members[1:]:
                    roles[user] = rng.choice(("viewer", "editor", "owner"))
                memberships[project] = roles
                for user, role in roles.items():
                    copy.write_row((project, user, role, now - timedelta(days=300)))
        owned: dict[int, list[int]] = {}
        # The counts trigger updates one row per treasure: 100,000 versions of
        # that row in one transaction cost minutes. Off for the COPY; the row
        # is set from the table afterwards, exact as the trigger keeps it.
        cur.execute("ALTER TABLE treasures DISABLE TRIGGER treasure_counts_follow")
        with cur.copy(
            "COPY treasures (id, owner_id, project_id, name, description, value, cool_factor,"
            " plundered_at, is_published, created_at) FROM STDIN"
        ) as copy:
            for n in range(1, TREASURES + 1):
                project = rng.randint(1, PROJECTS) if rng.random() < 0.5 else None
                owner = rng.choice(list(memberships[project])) if project else rng.randint(1, USERS)
                published = rng.random() < 0.3
                if published:
                    out.published_ids.append(n)
                owned.setdefault(owner, []).append(n)
                created = now - timedelta(seconds=TREASURES - n)
                copy.write_row((n, owner, project, f"Treasure {n}", "Shiny.", rng.randint(0, 10**6),
                                rng.randint(0, 10), created, published, created))
        cur.execute("ALTER TABLE treasures ENABLE TRIGGER treasure_counts_follow")
        cur.execute("UPDATE treasure_counts SET total = (SELECT count(*) FROM treasures),"
                    " published = (SELECT count(*) FROM treasures WHERE is_published) WHERE id = 1")
        scopes = " ".join(sorted(USER_SCOPES))
        member_of: dict[int, list[str]] = {}
        for project, roles in memberships.items():
            for user in roles:
                member_of.setdefault(user, []).append(f"project-{project}")
        with cur.copy(
            "COPY api_tokens (id, owner_id, name, token_hash, display_prefix, scopes, is_restricted,"
            " allowed_networks, expires_at, created_at, revoked_at) FROM STDIN"
        ) as copy:
            for n in range(1, TOKENS + 1):
                secret = tokens.generate()
                owner = rng.randint(1, USERS)
                roll = rng.random()
                expires = now + timedelta(days=60)
                revoked = None
                if roll < 0.10:
                    expires = now - timedelta(days=1)
                elif roll < 0.15:
                    revoked = now - timedelta(days=1)
                else:
                    out.live_tokens.append((secret, owner))
                    for slug in member_of.get(owner, ())[:1]:
                        out.member_tokens.append((secret, slug))
                    for treasure in owned.get(owner, ())[:1]:
                        out.writable.append((secret, treasure))
                copy.write_row((n, owner, f"bench {n}", tokens.hash_token(secret),
                                tokens.display_prefix(secret), scopes, False, "", expires,
                                now - timedelta(days=1), revoked))
        with cur.copy(
            "COPY login_sessions (id, user_id, secret_hash, created_at, last_seen_at, expires_at,"
            " ip, user_agent) FROM STDIN"
        ) as copy:
            for n in range(1, SESSIONS + 1):
                secret = secrets.token_urlsafe(32)
                out.sessions.append(secret)
                copy.write_row((n, rng.randint(1, USERS), tokens.hash_token(secret), now, now,
                                now + timedelta(days=14), "127.0.0.1", "bench"))
        for table in ("users", "projects", "treasures", "api_tokens", "login_sessions"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")
    connection.commit()
    return out

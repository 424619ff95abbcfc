"""Nothing changes when a request is refused (DESIGN sections 6 and 11).

Hypothesis sends generated ``Authorization`` headers, cookies and bodies
(unicode, NUL bytes, huge numbers, deep nesting, duplicate keys, wrong
types, wrong media types) to every write route of the API document, aimed at
rows that exist, and asserts that no answer is a 5xx and that, whenever the
answer is a 4xx, every table holds exactly what it held before: the only
writes a refused request may leave are the security bookkeeping of DESIGN
section 11 (throttle counters, security-log events, last-used times).
"""
from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dragonhoard.models.meta import metadata
from dragonhoard.openapi import OPERATIONS, UNSAFE, openapi_path
from dragonhoard.security import tokens
from dragonhoard.security.permissions import ALL_SCOPES, RULES

from .helpers import login

#: What DESIGN section 11 lets a refused request write: the bookkeeping.
BOOKKEEPING_TABLES = {"throttle_hits", "audit_events"}
BOOKKEEPING_COLUMNS = {"last_used_at", "last_used_ip", "last_seen_at"}
WRITES = [op for op in OPERATIONS if op.method in UNSAFE]
#: A few seconds per backend in ``make test``; ``make fuzz`` sends many more.
EXAMPLES = 1000 if os.environ.get("DRAGONHOARD_FUZZ") == "deep" else 100


def digest(engine) -> str:
    """One hash of every row of every table, bookkeeping aside."""
    sha = hashlib.sha256()
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in BOOKKEEPING_TABLES:
                continue
            columns = [c for c in table.columns if c.name not in BOOKKEEPING_COLUMNS]
            order = list(table.primary_key.columns) or columns
            for row in conn.execute(select(*columns).order_by(*order)):
                sha.update(repr((table.name, tuple(row))).encode())
    return sha.hexdigest()


# -- what is sent ---------------------------------------------------------------------

text = st.text(st.characters(codec="utf-8") | st.sampled_from("\x00\ufeff\u202e\U0001f409"),
               max_size=40)
huge = st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, 1e308, -0.0, 4.0, 2**62 + 1])
scalars = st.none() | st.booleans() | st.integers() | huge | st.floats(allow_nan=False,
                                                                         allow_infinity=False) | text
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(text, inner, max_size=4), max_leaves=12)


RAW_BODIES = st.sampled_from([
    b"", b"null", b"[]", b'"name"', b"{", b"\x00", b"\xff\xfe{}", b'{"name": "\x00"}',
    b'{"name": "ab", "name": "cd", "role": "owner", "role": 7}',  # duplicate keys
    b'{"value": 1' + b"0" * 400 + b"}", b'{"value": 1e999}', b'{"cool_factor": NaN}',
])


def nested(key: str, depth: int, array: bool) -> bytes:
    """A field nested ``depth`` deep (JSON parsers and encoders have limits)."""
    if array:
        return b'{"' + key.encode() + b'": ' + b"[" * depth + b"1" + b"]" * depth + b"}"
    return b'{"' + key.encode() + b'": ' * depth + b"1" + b"}" * depth


def body_for(op) -> st.SearchStrategy[bytes]:
    """Raw oddities, an object of the body's own field names with any values,
    or one of them nested deep."""
    names = list(op.body.model_fields) if op.body is not None else ["name"]
    keys = st.sampled_from(names + ["id", "owner_id", "is_admin", "project"])
    objects = st.dictionaries(keys, json_values, max_size=6)
    return st.one_of(
        RAW_BODIES,
        objects.map(lambda value: json.dumps(value, ensure_ascii=False).encode()),
        st.builds(nested, keys, st.integers(1, 3000), st.booleans()),
    )


#: How a request presents itself; a valid token most often, so that bodies are read.
AUTHORIZATIONS = ["valid"] * 3 + ["none", "token", "weak token", "bad checksum", "bearer junk",
                                   "basic", "empty", "bare scheme", "two spaces", "junk"]
COOKIES = [None] * 3 + ["session", "dh_session=forged", "dh_state=forged", "dh_session=; x=y"]
CSRF = [None, "csrf", "wrong"]
ORIGINS = [None] * 8 + ["http://localhost", "http://evil.example", "null"]
MEDIA_TYPES = ["application/json"] * 6 + ["text/plain", "application/x-www-form-urlencoded"]


class World:
    """Rows to aim at, a session (cookie, state cookie, CSRF token) and two
    tokens; filled again after a request that was not refused (it may have
    deleted or changed what the next ones aim at)."""

    def __init__(self, testapp, factory, database) -> None:
        self.testapp, self.factory, self.database = testapp, factory, database
        self.fill()

    def fill(self) -> None:
        self.database.clean()
        factory, testapp = self.factory, self.testapp
        owner = factory.user(is_admin=True)
        other = factory.user()
        project = factory.project(slug="hoard", members={owner: "owner", other: "viewer"})
        treasure = factory.treasure(owner, project=project)
        _, self.token = factory.token(owner, scopes=sorted(ALL_SCOPES))
        _, self.weak_token = factory.token(other, scopes=[])
        listed = factory.token(owner, scopes=["treasure:read"])[0]
        testapp.reset()
        self.csrf = login(testapp, owner)
        self.session = f"dh_session={testapp.cookies['dh_session']}; dh_state={testapp.cookies['dh_state']}"
        testapp.reset()  # cookies go only where the examples put them
        self.ids = {"id": [treasure.id, owner.id, listed.id, 0, 2**40],
                    "user_id": [other.id, owner.id, 0], "slug": [project.slug, "nope"]}

    def authorization(self, kind: str, junk: str) -> str | None:
        return {
            "token": f"Bearer {self.token}", "weak token": f"Bearer {self.weak_token}", "none": None,
            "bad checksum": "Bearer dhp_" + "A" * 46,  # the right shape, a wrong checksum
            "bearer junk": f"Bearer {junk}", "basic": f"Basic {junk}", "empty": "",
            "bare scheme": "Bearer", "two spaces": "Bearer  dhp_x", "junk": junk,
        }[kind]

    def path(self, op, picks: list[int]) -> str:
        names = re.findall(r"{(\w+)", op.route)
        values = {name: str(self.ids[name][pick % len(self.ids[name])])
                  for name, pick in zip(names, picks, strict=False)}
        return openapi_path(op.route).format(**values)

    def headers(self, op, sent: dict) -> dict[str, str]:
        headers = {"Content-Type": sent["media_type"]}
        kind = sent["authorization"]
        if kind == "valid":
            # The credential the route takes: the session (with its CSRF token)
            # where tokens are refused, or where no credential is needed.
            if RULES[op.permission].session_only or not op.credentials:
                headers.update({"Cookie": self.session, "X-CSRF-Token": self.csrf})
                return headers
            kind = "token"
        authorization = self.authorization(kind, sent["junk"])
        if authorization is not None:
            headers["Authorization"] = authorization
        if sent["cookie"] is not None:
            headers["Cookie"] = self.session if sent["cookie"] == "session" else sent["cookie"]
        if sent["csrf"] is not None:
            headers["X-CSRF-Token"] = self.csrf if sent["csrf"] == "csrf" else "wrong"
        if sent["origin"] is not None:
            headers["Origin"] = sent["origin"]
        return headers


@st.composite
def requests_(draw, ops, authorizations) -> dict:
    """What to send, as choices resolved against the world of the moment."""
    op = draw(st.sampled_from(ops))
    return {
        "op": op,
        "picks": draw(st.lists(st.integers(0, 4), min_size=2, max_size=2)),
        "authorization": draw(st.sampled_from(authorizations)),
        "junk": draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
        "cookie": draw(st.sampled_from(COOKIES)),
        "csrf": draw(st.sampled_from(CSRF)),
        "origin": draw(st.sampled_from(ORIGINS)),
        "media_type": draw(st.sampled_from(MEDIA_TYPES)),
        "body": draw(body_for(op)),
    }


@pytest.fixture
def world(testapp, factory, clean_database):
    return World(testapp, factory, clean_database)


def send_and_compare(testapp, world: World, engine, sent: dict, statuses: dict) -> None:
    op, body = sent["op"], sent["body"]
    path, headers = world.path(op, sent["picks"]), world.headers(op, sent)
    before = digest(engine)
    testapp.reset()
    answer = testapp.request(path, method=op.method, headers=headers, body=body, expect_errors=True)
    status = answer.status_int
    statuses[status] = statuses.get(status, 0) + 1
    assert status < 500, f"{op.method} {path} {headers} {body[:200]!r}: {answer.status}"
    if 400 <= status < 500:
        assert digest(engine) == before, f"{op.method} {path} was refused ({answer.status}) but wrote"
        assert answer.content_type == "application/json"
        # The endpoints apps call answer as RFC 6749 section 5.2 says.
        shape = {"error", "error_description", "error_uri", "state", "message"} \
            if path.startswith("/oauth/") else {"error", "message", "fields"}
        assert set(answer.json) <= shape
    else:
        world.fill()


SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def test_bodies_refused_change_nothing(testapp, world, clean_database):
    """The right credential for the route, and any body."""
    statuses: dict[int, int] = {}

    @SETTINGS
    @given(sent=requests_([op for op in WRITES if op.body is not None], ["valid"]))
    def bodies(sent):
        send_and_compare(testapp, world, clean_database.engine, sent, statuses)

    bodies()
    # Not vacuous: most were refused, many for their bodies.
    assert sum(n for s, n in statuses.items() if 400 <= s < 500) > EXAMPLES // 2, statuses
    assert statuses.get(422, 0) + statuses.get(400, 0) > EXAMPLES // 4, statuses


def test_credentials_refused_change_nothing(testapp, world, clean_database):
    """Any Authorization header, cookie and CSRF header, on every write route."""
    statuses: dict[int, int] = {}

    @SETTINGS
    @given(sent=requests_(WRITES, AUTHORIZATIONS))
    def credentials(sent):
        send_and_compare(testapp, world, clean_database.engine, sent, statuses)

    credentials()
    assert statuses.get(400, 0) + statuses.get(401, 0) > EXAMPLES // 4, statuses


def test_the_digest_sees_every_change(factory, clean_database):
    """The property above could hold vacuously: a write must change the digest."""
    user = factory.user()
    before = digest(clean_database.engine)
    factory.treasure(user)
    assert digest(clean_database.engine) != before
    assert not tokens.is_well_formed("dhp_" + "A" * 46)

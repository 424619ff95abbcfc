"""The contract fuzzed: schemathesis holds the running application to its own
OpenAPI document (``GET /api/openapi.json``), three times: anonymous, with a
login session (cookie and CSRF header) and with a token holding every scope
(its owner an admin, so that ``admin`` counts too).

The application is served by waitress on a free loopback port over the
run's database (SQLite, and PostgreSQL when DRAGONHOARD_TEST_POSTGRES_URL is
set). Each operation is fuzzed, for each caller, over a clean database
holding a small hoard that the generated ids and slugs are aimed at
(:func:`aim`), so that the fuzzer reaches rows that exist as well as rows
that do not; a credential the fuzzer ends (logout, revocation) is renewed
before the next request.

Every check schemathesis has runs on every answer: no 5xx; status codes,
content types, headers and bodies as documented; invalid data refused with
a 4xx; valid data accepted; 405 with Allow for a method the document does
not list. Two exceptions, each with its reason: valid data may be refused
where success depends on state the document cannot state
(:data:`STATEFUL_SUCCESS`), and ignored_auth is replaced by
:func:`refused_without_credentials`, which knows this API's 404. ``make
fuzz`` runs the same with many more examples, plus the stateful phase over
the document's links.
"""
from __future__ import annotations

import os
import re
import threading
import zlib
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import requests
import waitress
from sqlalchemy import select

from dragonhoard import clock
from dragonhoard.models import ApiToken, LoginSession, User
from dragonhoard.models.project import SLUG_PATTERN
from dragonhoard.openapi import Document, build_document
from dragonhoard.security.permissions import ALL_SCOPES

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance  # noqa: E402

DEEP = os.environ.get("DRAGONHOARD_FUZZ") == "deep"
#: Examples per operation and phase: a few in ``make test``, many in ``make fuzz``.
MAX_EXAMPLES = int(os.environ.get("DRAGONHOARD_FUZZ_EXAMPLES", 150 if DEEP else 6))
CALLERS = ("anonymous", "session", "token")

#: Operations whose success depends on rows or the clock in ways the document
#: cannot state, so that valid-looking data is rightly refused (422): the
#: positive_data_acceptance check is off for them, every other check is on.
STATEFUL_SUCCESS = {
    "POST /oauth/token": "a code, refresh token or device code that the fuzzer cannot know: "
                         "400 invalid_grant (RFC 6749 section 5.2) is right",
    "POST /oauth/introspect": "introspection is for confidential apps, whose secret the fuzzer "
                              "cannot know: 401 invalid_client is right",
    "POST /api/users": "a new password must pass the strength check (zxcvbn), which JSON "
                       "Schema cannot say; 422 on password is the right answer",
    "POST /api/tokens": "projects must name the caller's own projects, expires_at must not "
                        "be in the past (today's date) and admin is for admins: 422 is right",
    "POST /api/account/password": "the new password must pass the strength check (zxcvbn)",
    "POST /api/account/totp/confirm": "only the code the authenticator shows now is right: a "
                                      "wrong code is 422 on code (DESIGN section 14)",
    "POST /api/account/webauthn": "only a security key's own answer to the challenge the server "
                                  "issued is a credential: any other is 422 on credential",
}

CONFIG = schemathesis.Config.from_dict({
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "database": "none",
        # Credentials come from the caller's auth provider only: the anonymous
        # run sends none (tests/test_refusals_change_nothing.py sends junk).
        "with-security-parameters": False,
    },
    "phases": {"stateful": {"enabled": DEEP, "max-steps": 8}},
})

HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def live(app_factory):
    """The test app served by waitress on 127.0.0.1:<free port>."""
    httpd = waitress.create_server(app_factory(), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=httpd.run, name="waitress-fuzz", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{httpd.effective_port}"
    try:
        # What is fuzzed is what the application serves.
        served = requests.get(f"{base_url}/api/openapi.json", timeout=15).content
        assert served == Document.of(build_document(*SESSIONS_ON)).body
        yield base_url
    finally:
        httpd.close()
        thread.join(timeout=5)


@dataclass
class Hoard:
    """What the fuzzer finds in the database, and the ids it aims at."""

    users: list[int]
    treasures: list[int]
    slugs: list[str]
    sessions: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    #: The projects the caller may add treasures to.
    creatable: list[str] = field(default_factory=list)
    #: A public OAuth app's client_id, for the forms of the endpoints apps call.
    client_ids: list[str] = field(default_factory=list)


def fill(factory) -> tuple[Hoard, dict]:
    alice = factory.user(username="alice")
    smaug = factory.user(username="smaug", is_admin=True)
    bob = factory.user(username="bob")
    hoard = factory.project(slug="hoard", members={alice: "owner", bob: "viewer", smaug: "editor"})
    lair = factory.project(slug="lair", members={smaug: "owner"})
    treasures = [
        factory.treasure(alice, name="Arkenstone", value=10**6, cool_factor=10),
        factory.treasure(alice, project=hoard, name="Mithril coat", is_published=True),
        factory.treasure(bob, project=hoard, name="Silver cup"),
        factory.treasure(smaug, project=lair, name="Gold heap", is_published=True),
        factory.treasure(bob, name="Bob's ring"),
    ]
    old_session, _ = factory.login_session(alice)
    alice_token, _ = factory.token(alice, scopes=["treasure:read"], name="old laptop")
    cli, _ = factory.oauth_app(smaug, confidential=False, name="hoard-cli")
    return (Hoard(users=[alice.id, smaug.id, bob.id], treasures=[t.id for t in treasures],
                  slugs=[hoard.slug, lair.slug], sessions=[old_session.id], tokens=[alice_token.id],
                  client_ids=[cli.client_id]),
            {"alice": alice, "smaug": smaug})


class Caller:
    """Who calls, over the hoard it finds: a credential the fuzzer may end
    (logout, revocation) is renewed before the next case."""

    def __init__(self, kind: str, factory, base_url: str) -> None:
        self.kind, self.factory, self.base_url = kind, factory, base_url
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}
        self.row_id: int | None = None
        self.renewals = 0
        self.start()

    def start(self) -> None:
        self.hoard, self.users = fill(self.factory)
        self.hoard.creatable = {"session": ["hoard"], "token": self.hoard.slugs}.get(self.kind, [])
        if self.kind != "anonymous":
            self.renew()

    def reset(self, database) -> None:
        """The same world again (a stateful scenario starts from it)."""
        database.clean()
        self.factory.db.expunge_all()
        self.start()

    def renew(self) -> None:
        self.renewals += 1
        if self.kind == "token":
            # Expiring within 7 days: every answer must carry Dragonhoard-Token-Expires.
            row, secret = self.factory.token(self.users["smaug"], scopes=sorted(ALL_SCOPES),
                                             name=f"fuzz {self.renewals}",
                                             expires_at=clock.now() + timedelta(days=3))
            self.headers = {"Authorization": f"Bearer {secret}"}
        else:
            row, secret = self.factory.login_session(
                self.users["alice"], sudo_until=clock.now() + timedelta(hours=1))
            self.cookies = {"dh_session": secret}
            # A page gives the CSRF token bound to this login session (and its state cookie).
            page = requests.get(f"{self.base_url}/tokens", cookies=self.cookies, timeout=15)
            assert page.status_code == 200, page.status_code
            self.cookies.update(page.cookies.get_dict())
            self.headers = {"X-CSRF-Token": re.search(r'name="csrf-token" content="([^"]+)"',
                                                       page.text).group(1)}
            self.hoard.sessions.append(row.id)
        self.row_id = row.id

    def alive(self) -> bool:
        db = self.factory.db
        db.expire_all()
        if self.kind == "token":
            return db.get(ApiToken, self.row_id).revoked_at is None
        row = db.get(LoginSession, self.row_id)
        changed = db.scalar(select(User.password_changed_at).where(User.id == row.user_id))
        return row.revoked_at is None and changed <= row.created_at

    def credentials(self) -> tuple[dict, dict]:
        if not self.alive():
            self.renew()
        return self.headers, self.cookies


DIGITS = re.compile(r"[0-9]+")
SLUG = re.compile(SLUG_PATTERN)


def aim(case, hoard: Hoard, *, paths: bool = True) -> None:
    """Point some generated ids and slugs at rows that exist.

    The choice is a function of the generated value, so that a derandomized
    run sends the same requests each time; values that are not ids or slugs
    at all (negative cases) are left as they are.
    """
    targets = {"slug": hoard.slugs, "user_id": hoard.users}
    path = case.operation.path
    if path.startswith("/api/users/"):
        targets["id"] = hoard.users
    elif path.startswith("/api/treasures/"):
        targets["id"] = hoard.treasures
    elif path.startswith("/api/sessions/"):
        targets["id"] = hoard.sessions
    elif path.startswith("/api/tokens/"):
        targets["id"] = hoard.tokens
    for name, value in list((case.path_parameters or {}).items() if paths else ()):
        choices = targets.get(name)
        text = str(value)
        pattern = SLUG if name == "slug" else DIGITS
        if choices and pattern.fullmatch(text):
            pick = zlib.crc32(text.encode()) % (len(choices) + 1)
            if pick < len(choices):
                case.path_parameters[name] = str(choices[pick])
    body = case.body
    client_id = body.get("client_id") if isinstance(body, dict) else None
    if isinstance(client_id, str) and hoard.client_ids:
        # Some forms name a registered app: its refusals go past the client check.
        pick = zlib.crc32(client_id.encode("utf-8", "surrogatepass")) % (len(hoard.client_ids) + 1)
        if pick < len(hoard.client_ids):
            body["client_id"] = hoard.client_ids[pick]
    project = body.get("project") if isinstance(body, dict) else None
    if isinstance(project, str) and SLUG.fullmatch(project) and hoard.creatable:
        # A new treasure's project: an unknown or unseen one is rightly 422
        # (DESIGN section 5), and in /api/projects/{slug}/treasures it must be
        # that project; valid data names one the caller may add to.
        slug = (case.path_parameters or {}).get("slug")
        body["project"] = slug or hoard.creatable[zlib.crc32(project.encode()) % len(hoard.creatable)]


#: The caller of the test running now (tests run one at a time in a process).
CURRENT: dict[str, Caller | None] = {"caller": None}

SESSIONS_ON = (("bearer", "session"), "dh_session")
# schemathesis adds to the dict it is given (inferred links): its own copy.
schema = schemathesis.openapi.from_dict(build_document(*SESSIONS_ON), config=CONFIG)


@schema.auth(refresh_interval=None)
class CallerAuth:
    """The current caller's cookie, CSRF header or token, renewed when the fuzzer ended it."""

    def get(self, case, context):
        caller = CURRENT["caller"]
        return None if caller is None or caller.kind == "anonymous" else caller.credentials()

    def set(self, case, data, context):
        headers, cookies = data
        case.headers = {**(case.headers or {}), **headers}
        case.cookies = {**(case.cookies or {}), **cookies}


@pytest.fixture(params=CALLERS)
def caller(request, live, factory):
    CURRENT["caller"] = Caller(request.param, factory, live)
    yield CURRENT["caller"]
    CURRENT["caller"] = None


def refused_without_credentials(case, response, base_url: str) -> None:
    """schemathesis's ignored_auth check, in this API's terms.

    A success that needed credentials is sent again without them and must be
    refused: 401, or 404 where the caller may not even see the row (DESIGN
    section 5, step 1: hidden and missing answer alike, anonymous callers
    included). ignored_auth knows only 401 and 403, so it is replaced by this.
    """
    security = case.operation.definition.raw.get("security", [])
    if not 200 <= response.status_code < 300 or not security or {} in security:
        return
    probe = case.as_transport_kwargs(base_url=base_url)
    for name in ("Authorization", "X-CSRF-Token", "Cookie"):
        probe["headers"].pop(name, None)
    probe["cookies"] = {}
    answer = requests.request(**probe, timeout=30)
    assert answer.status_code in (401, 404), (
        f"{case.method} {case.formatted_path} answered {answer.status_code} without credentials")


def excluded_checks(case) -> list:
    excluded = [ignored_auth]  # replaced by refused_without_credentials
    if f"{case.method} {case.path}" in STATEFUL_SUCCESS:
        excluded.append(positive_data_acceptance)
    return excluded


@schema.parametrize()
@HYPOTHESIS
def test_the_application_keeps_its_contract(case, live, caller):
    aim(case, caller.hoard)
    response = case.call(base_url=live, timeout=30)
    case.validate_response(response, excluded_checks=excluded_checks(case))
    refused_without_credentials(case, response, live)


@pytest.mark.skipif(not DEEP, reason="make fuzz runs the stateful phase")
def test_linked_operations_keep_the_contract(live, caller, clean_database):
    """Create, then read, change and delete what was created, following the
    document's links (a created treasure's id, a project's slug, ...)."""

    class Linked(schema.as_state_machine()):
        def setup(self):
            # Each scenario from the same world, or a replay would not replay.
            caller.reset(clean_database)

        def before_call(self, case):
            # The links bring the ids and slugs of what was created.
            aim(case, caller.hoard, paths=False)

        def get_call_kwargs(self, case):
            return {"base_url": live, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, excluded_checks=excluded_checks(case),
                                   transport_kwargs=kwargs, recorder=self.recorder)
            refused_without_credentials(case, response, live)

    Linked.run(settings=settings(HYPOTHESIS, max_examples=MAX_EXAMPLES, stateful_step_count=8))

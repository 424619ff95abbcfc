"""Two waitress processes over one PostgreSQL database (DESIGN section 9):
nothing lives in a process, so whatever one process does, the other sees on
its very next request. Each test runs with both processes on PostgreSQL
directly, and through PgBouncer in transaction mode (README, "Deployment"),
where consecutive transactions of one process land on different server
connections."""
from __future__ import annotations

import pytest

from .conftest import BASE_SETTINGS
from .deploy_pgbouncer import pgbouncer  # noqa: F401 - a fixture
from .deploy_waitress import Answer, Cookies, Waitress, app_process, bearer, start_all, stop_all
from .deploy_waitress import request as http_request
from .factories import PASSWORD

pytestmark = pytest.mark.scaleout

SETTINGS = dict(BASE_SETTINGS, **{"dragonhoard.throttle.account_address_limit": "3"})


@pytest.fixture(scope="module", params=["direct", "pgbouncer"])
def processes(request, database, tmp_path_factory):
    if database.backend != "postgresql":
        pytest.skip("many processes share PostgreSQL, not a SQLite file")
    url, settings = database.url, SETTINGS
    if request.param == "pgbouncer":
        bouncer = request.getfixturevalue("pgbouncer")
        url, settings = bouncer.url(database.url), dict(SETTINGS, **{"dragonhoard.db.pooler": "pgbouncer"})
    tmp = tmp_path_factory.mktemp(f"scaleout-{request.param}")
    started = start_all([app_process(tmp, name, url, settings) for name in ("first", "second")])
    try:
        yield tuple(started)
    finally:
        stop_all(started)
    for process in started:
        assert "Traceback" not in process.log(), process.log()


class Browser:
    """Cookies and the CSRF token, kept across requests to either process."""

    def __init__(self) -> None:
        self.cookies = Cookies()
        self.csrf = ""

    def call(self, process: Waitress, method: str, path: str, body=None) -> tuple[int, object]:
        headers = dict(self.cookies.header(), **({"X-CSRF-Token": self.csrf} if self.csrf else {}))
        answer = request_to(process, method, path, body, headers)
        self.cookies.keep(answer)
        return answer.status, answer.json()

    def login(self, process: Waitress, email: str, password: str = PASSWORD):
        status, data = self.call(process, "POST", "/api/login", {"email": email, "password": password})
        if status == 200:
            self.csrf = data["csrf_token"]
        return status, data


def request_to(process: Waitress, method: str, path: str, body=None, headers=None) -> Answer:
    return http_request(process.port, method, path, body, headers)


def test_sessions_and_revocations_cross_processes(processes, clean_database, factory):
    first, second = processes
    user = factory.user()
    browser, other_browser = Browser(), Browser()
    assert browser.login(first, user.email)[0] == 200
    assert browser.call(second, "GET", "/api/me")[0] == 200  # created by one, honoured by the other
    assert other_browser.login(second, user.email)[0] == 200
    sessions = browser.call(second, "GET", "/api/sessions")[1]["items"]
    other_id = next(item["id"] for item in sessions if not item["current"])
    assert browser.call(first, "DELETE", f"/api/sessions/{other_id}")[0] == 204
    assert other_browser.call(second, "GET", "/api/me")[0] == 401  # revoked by the first


def test_logout_through_one_ends_the_session_on_the_other(processes, clean_database, factory):
    first, second = processes
    user = factory.user()
    browser = Browser()
    assert browser.login(second, user.email)[0] == 200
    for process in (first, second, first):  # read, and touched, by both
        assert browser.call(process, "GET", "/api/me")[0] == 200
    assert browser.call(first, "POST", "/api/logout")[0] == 204
    assert browser.call(second, "GET", "/api/me")[0] == 401


def test_a_token_revoked_through_one_is_refused_by_the_other(processes, clean_database, factory):
    first, second = processes
    user = factory.user()
    _row, secret = factory.token(user)
    assert request_to(second, "GET", "/api/me", headers=bearer(secret)).status == 200
    assert request_to(first, "DELETE", "/api/tokens/self", headers=bearer(secret)).status == 204
    answer = request_to(second, "GET", "/api/me", headers=bearer(secret))
    assert answer.status == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_a_role_change_through_one_applies_on_the_other_at_once(processes, clean_database, factory):
    first, second = processes
    owner, member = factory.user(), factory.user()
    project = factory.project(members={owner: "owner", member: "viewer"})
    treasure = factory.treasure(owner, project=project)
    _row, owner_secret = factory.token(owner, scopes=["project:admin"])
    _row, member_secret = factory.token(member, scopes=["treasure:edit", "treasure:read"])
    path = f"/api/treasures/{treasure.id}"
    assert request_to(second, "PATCH", path, {"value": 1}, bearer(member_secret)).status == 403
    answer = request_to(first, "PUT", f"/api/projects/{project.slug}/members/{member.id}",
                        {"role": "editor"}, bearer(owner_secret))
    assert answer.status == 200
    assert request_to(second, "PATCH", path, {"value": 2}, bearer(member_secret)).status == 200
    assert request_to(first, "GET", path, headers=bearer(member_secret)).json()["value"] == 2


def test_throttling_counts_failures_across_processes(processes, clean_database, factory):
    first, second = processes
    user = factory.user()
    browser = Browser()
    assert browser.login(first, user.email, "wrong-password")[0] == 401
    assert browser.login(second, user.email, "wrong-password")[0] == 401
    assert browser.login(first, user.email, "wrong-password")[0] == 401
    status, _body = browser.login(second, user.email)  # the right password, past the limit
    assert status == 429

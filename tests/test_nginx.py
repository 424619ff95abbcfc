"""production.ini behind nginx, as README's "Deployment" shows it: README's
nginx site (read from README) with TLS (a self-signed certificate made here),
in front of two production.ini processes, which reach PostgreSQL through
PgBouncer in transaction mode. Clients speak from 127.0.0.2 and 127.0.0.3
(nginx reaches waitress from 127.0.0.1, the one trusted proxy), so that the
address the app records shows whose it is."""
from __future__ import annotations

import http.client
import secrets

import pytest
from sqlalchemy import select

from dragonhoard.models import ApiToken, AuditEvent

from . import deploy_nginx
from .deploy_pgbouncer import pgbouncer  # noqa: F401 - a fixture
from .deploy_waitress import (
    Answer,
    Cookies,
    bearer,
    production_process,
    request,
    start_all,
    stop_all,
)
from .factories import PASSWORD

pytestmark = pytest.mark.scaleout

HSTS = "max-age=31536000; includeSubDomains"
#: production.ini's dragonhoard.throttle.account_address_limit.
ACCOUNT_ADDRESS_LIMIT = 10
CLIENT, OTHER_CLIENT = "127.0.0.2", "127.0.0.3"


class Site:
    def __init__(self, nginx: deploy_nginx.Nginx, processes) -> None:
        self.nginx, self.processes = nginx, processes
        self.tls = nginx.tls()

    def https(self, method: str, path: str, body=None, headers=None, *, source: str = CLIENT) -> Answer:
        headers = {"Host": deploy_nginx.HOST, **(headers or {})}
        return request(self.nginx.https_port, method, path, body, headers, source=source, tls=self.tls)

    def http(self, method: str, path: str, body=None, headers=None) -> Answer:
        headers = {"Host": deploy_nginx.HOST, **(headers or {})}
        return request(self.nginx.http_port, method, path, body, headers, source=CLIENT)


@pytest.fixture(scope="module")
def site(database, pgbouncer, tmp_path_factory):  # noqa: F811
    if not deploy_nginx.available():
        pytest.skip(deploy_nginx.MISSING)
    tmp = tmp_path_factory.mktemp("nginx")
    env = {"DRAGONHOARD_DATABASE_URL": pgbouncer.url(database.url),
           "DRAGONHOARD_SECRET": secrets.token_urlsafe(48)}
    processes = start_all([production_process(tmp, f"app{n}", env, pooler="pgbouncer") for n in (1, 2)])
    nginx = None
    try:
        nginx = deploy_nginx.Nginx([p.port for p in processes]).start()
        yield Site(nginx, processes)
    finally:
        if nginx is not None:
            nginx.remove()
        stop_all(processes)
    for process in processes:
        assert "Traceback" not in process.log(), process.log()


def login(site: Site, email: str, password: str = PASSWORD, *, source: str = CLIENT,
          forged: str = "") -> Answer:
    headers = {"Origin": f"https://{deploy_nginx.HOST}"}
    if forged:
        headers["X-Forwarded-For"] = forged
    return site.https("POST", "/api/login", {"email": email, "password": password}, headers,
                      source=source)


def test_the_app_records_the_address_nginx_forwards_not_a_forged_one(site, clean_database, factory,
                                                                     dbsession):
    user = factory.user()
    token, secret = factory.token(user, scopes=["user:read"])
    answer = site.https("GET", "/api/me", headers=dict(bearer(secret), **{"X-Forwarded-For": "203.0.113.9"}))
    assert answer.status == 200
    dbsession.expire_all()
    assert dbsession.get(ApiToken, token.id).last_used_ip == CLIENT
    # The security log: a login from the other address, which claims a third.
    assert login(site, user.email, source=OTHER_CLIENT, forged="203.0.113.9").status == 200
    events = dbsession.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id)).all()
    assert [(e.kind, e.ip) for e in events] == [("login:success", OTHER_CLIENT)]


def test_allowed_networks_see_the_forwarded_address(site, clean_database, factory):
    user = factory.user()
    _row, secret = factory.token(user, scopes=["user:read"], allowed_networks=f"{CLIENT}/32")
    assert site.https("GET", "/api/me", headers=bearer(secret)).status == 200
    # From elsewhere, claiming to be the allowed address: refused.
    forged = dict(bearer(secret), **{"X-Forwarded-For": CLIENT})
    answer = site.https("GET", "/api/me", headers=forged, source=OTHER_CLIENT)
    assert answer.status == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_throttling_counts_the_forwarded_address(site, clean_database, factory):
    user = factory.user()
    for number in range(ACCOUNT_ADDRESS_LIMIT):
        # A new forged address every time changes nothing.
        answer = login(site, user.email, "wrong-password", forged=f"198.51.100.{number}")
        assert answer.status == 401
    refused = login(site, user.email, forged="198.51.100.200")
    assert refused.status == 429 and refused.headers["Retry-After"].isdigit()
    # The limit is per address: the owner elsewhere still gets in (so the app
    # did not count nginx's own 127.0.0.1 for everyone).
    assert login(site, user.email, source=OTHER_CLIENT).status == 200


def test_cookies_come_back_secure_with_the_host_prefix(site, clean_database, factory):
    user = factory.user()
    answer = login(site, user.email)
    assert answer.status == 200
    cookies = {header.split("=", 1)[0]: header for header in answer.header_values("Set-Cookie")}
    assert set(cookies) == {"__Host-dh_session", "__Host-dh_state"}, cookies
    for header in cookies.values():
        attributes = [a.strip().lower() for a in header.split(";")[1:]]
        assert "secure" in attributes and "path=/" in attributes, header
        assert not [a for a in attributes if a.startswith("domain")], header
    assert "httponly" in cookies["__Host-dh_session"].lower()
    # The session works on both balanced processes.
    jar = Cookies()
    jar.keep(answer)
    for _ in range(4):
        assert site.https("GET", "/api/me", headers=jar.header()).status == 200


def test_hsts_is_passed_through_once_and_added_to_nginx_own_answers(site, clean_database, factory):
    user = factory.user()
    _row, secret = factory.token(user, scopes=["user:read"])
    big = b'{"name": "' + b"x" * 1_500_000 + b'"}'
    answers = {
        "login": login(site, user.email),
        "me": site.https("GET", "/api/me", headers=bearer(secret)),
        "missing": site.https("GET", "/api/nothing-here"),
        "app's 413": site.https("POST", "/api/treasures", big,
                                dict(bearer(secret), **{"Content-Type": "application/json"})),
    }
    assert [a.status for a in answers.values()] == [200, 200, 404, 413]
    assert answers["app's 413"].json()["error"] == "request_too_large"
    for name, answer in answers.items():
        assert answer.header_values("Strict-Transport-Security") == [HSTS], name
    nginx_413 = oversized_headers_only(site, 3 * 1024 * 1024)
    assert nginx_413.status == 413 and b"nginx" in nginx_413.body
    assert nginx_413.header_values("Strict-Transport-Security") == [HSTS]


def oversized_headers_only(site: Site, length: int) -> Answer:
    """A request declaring a body over nginx's limit: nginx answers before any
    of it is sent (sending it would race nginx's closing the connection)."""
    connection = http.client.HTTPSConnection("127.0.0.1", site.nginx.https_port, timeout=10,
                                             context=site.tls, source_address=(CLIENT, 0))
    try:
        connection.putrequest("POST", "/api/treasures", skip_host=True)
        for name, value in (("Host", deploy_nginx.HOST), ("Content-Type", "application/json"),
                            ("Content-Length", str(length))):
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def test_plain_http_redirects_pages_and_refuses_the_api(site, clean_database, factory, dbsession):
    page = site.http("GET", "/login?next=/tokens")
    assert page.status == 301
    assert page.headers["Location"] == "https://hoard.example/login?next=/tokens"
    assert not page.header_values("Set-Cookie")
    user = factory.user()
    token, secret = factory.token(user, scopes=["user:read"])
    for answer in (site.http("GET", "/api/me", headers=bearer(secret)),
                   site.http("POST", "/api/login", {"email": user.email, "password": PASSWORD})):
        assert answer.status == 403 and answer.json()["error"] == "https_required"
        assert not answer.header_values("Set-Cookie")
    # Refused by nginx: the app never saw the token.
    dbsession.expire_all()
    assert dbsession.get(ApiToken, token.id).last_used_at is None

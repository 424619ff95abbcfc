"""Bodies over the application's limit get its JSON 413, whether declared
or chunked, because waitress's own limit is larger (DESIGN section 6); only a
body over waitress's limit gets waitress's plain-text answer (README)."""
from __future__ import annotations

import configparser
import http.client
import json
import socket
from pathlib import Path

import pytest
from webtest.http import StopableWSGIServer

ROOT = Path(__file__).resolve().parent.parent
APP_LIMIT = 1_048_576


@pytest.fixture
def served(app_factory, clean_database):
    """The test app behind a real waitress, with production.ini's body limit."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / "production.ini")
    limit = int(ini["server:main"]["max_request_body_size"])
    server = StopableWSGIServer.create(app_factory(), host="127.0.0.1", threads=2,
                                       max_request_body_size=limit, expose_tracebacks=False)
    assert server.wait()
    yield server.adj.port, limit
    server.shutdown()


def post(port: int, body: bytes, *, chunked: bool = False) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if chunked:
        conn.request("POST", "/api/users", body=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                     headers=headers, encode_chunked=True)
    else:
        conn.request("POST", "/api/users", body=body, headers=headers)
    response = conn.getresponse()
    response.data = response.read()
    conn.close()
    return response


def test_waitress_bounds_bodies_above_the_applications_limit():
    ini = configparser.ConfigParser(interpolation=None)
    for name in ("production.ini", "development.ini"):
        ini.read(ROOT / name)
        assert int(ini["server:main"]["max_request_body_size"]) > int(ini["app:main"]["dragonhoard.max_body_bytes"])


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_apps_limit_gets_the_json_413(served, chunked):
    port, _limit = served
    response = post(port, b" " * (APP_LIMIT + 10), chunked=chunked)
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(response.data)["error"] == "request_too_large"


def test_a_body_over_waitress_limit_is_refused_before_the_app(served):
    """Declared over waitress's limit: waitress answers at once, in plain text
    (the case README documents), and quotes no header."""
    port, limit = served
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /api/users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer dhp_secret\r\n"
                     + f"Content-Length: {limit + 10}\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"dhp_secret" not in answer

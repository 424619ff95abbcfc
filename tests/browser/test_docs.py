"""``/api/docs`` in headless Chromium: Swagger UI, served from the package's
own files, draws every operation of ``/api/openapi.json`` with no console
error and no Content Security Policy violation; and "Try it out" works with
the login session, the CSRF header included."""
from __future__ import annotations

import re

import pytest

from .. import factories
from .test_browser import (  # noqa: F401 - fixtures
    RECORD_CSP_VIOLATIONS,
    TIMEOUT_MS,
    PageProblems,
    browser,
    server,
    sync_api,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def factory(server):  # noqa: F811
    from sqlalchemy.orm import Session

    with Session(server["engine"]) as session:
        yield factories.Factory(session)


@pytest.fixture
def page(browser, server):  # noqa: F811
    context = browser.new_context(base_url=server["base_url"], viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    try:
        yield context.new_page()
    finally:
        context.close()


def operation_count(page) -> int:
    document = page.request.get("/api/openapi.json").json()
    return sum(len(item) for item in document["paths"].values())


def test_the_reference_draws_every_operation_with_no_error(page):
    problems = PageProblems(page)
    answer = page.goto("/api/docs")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    sync_api.expect(page.locator(".swagger-ui .info .title")).to_contain_text("dragonhoard")
    sync_api.expect(page.locator(".opblock")).to_have_count(operation_count(page))
    # Swagger UI's own complaints about the document (a bad $ref, a version
    # it cannot draw) appear in the page, not on the console.
    assert page.locator(".swagger-ui .errors-wrapper").count() == 0
    assert page.get_by_text("Unable to render this definition").count() == 0
    # Nothing was fetched from anywhere but here.
    assert page.evaluate("performance.getEntriesByType('resource').every("
                         "e => e.name.startsWith(location.origin))")
    assert problems.csp() == []
    assert problems.errors() == []


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation(url=re.compile(r"/$")):
        page.click("main form button[type=submit]")


def try_it_out(page, tag: str, operation_id: str, method: str, path: str):
    """Open the operation, "Try it out" (the example body as it is), "Execute"."""
    block = page.locator(f"#operations-{tag}-{operation_id}")
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    with page.expect_response(lambda r: r.request.method == method
                              and r.url.split("?")[0].endswith(path)) as answer:
        block.locator(".execute").click()
    sync_api.expect(block.locator(".live-responses-table tbody .response-col_status").first).to_contain_text(
        str(answer.value.status))
    return answer.value


def test_try_it_out_uses_the_login_session_and_its_csrf_token(page, factory):
    user = factory.user()
    log_in(page, user.email)
    problems = PageProblems(page)
    with page.expect_navigation(url=re.compile(r"/api/docs$")):
        page.click("header nav a[href='/api/docs']")
    sync_api.expect(page.locator(".opblock")).to_have_count(operation_count(page))

    me = try_it_out(page, "users", "getMe", "GET", "/api/me")
    assert me.status == 200 and me.json()["auth"] == "session"

    created = try_it_out(page, "treasures", "createTreasure", "POST", "/api/treasures")
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    assert created.request.all_headers().get("x-csrf-token") == csrf
    assert created.status == 201, created.text()
    assert created.json()["name"] == "Arkenstone" and created.json()["owner_id"] == user.id
    assert problems.csp() == []
    assert problems.errors() == []

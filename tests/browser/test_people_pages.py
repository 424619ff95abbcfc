"""The project, profile and administration pages in headless Chromium: roles
seen as controls, the last-owner refusal, an admin's deactivation taking
effect, no sideways scrolling at a phone's width, and no serious or critical
accessibility violation (axe-core) on any page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from dragonhoard import clock

from .. import factories
from .test_browser import (  # noqa: F401 - fixtures
    LAUNCH_ARGS,
    RECORD_CSP_VIOLATIONS,
    TIMEOUT_MS,
    PageProblems,
    browser,
    phone_and_axe_problems,
    server,
    sync_api,
)

axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def factory(server):  # noqa: F811
    from sqlalchemy.orm import Session

    with Session(server["engine"]) as session:
        yield factories.Factory(session)


@pytest.fixture
def new_page(browser, server):  # noqa: F811
    """Pages, each in a browser context of its own (its own cookies)."""
    contexts = []

    def make(viewport=None):
        context = browser.new_context(base_url=server["base_url"], viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        return page, PageProblems(page)

    yield make
    for context in contexts:
        context.close()


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation(url=re.compile(r"/$")):
        page.click("main form button[type=submit]")


def clean(problems: PageProblems, *, expected: str | None = None) -> None:
    """No CSP violation and no error, but the failed request the test asked for
    (Chromium logs every answer of 4xx as a console error)."""
    assert problems.csp() == []
    assert [m for m in problems.errors() if not (expected and expected in m)] == []


def test_roles_are_controls_and_the_last_owner_reads_the_refusal(new_page, factory):
    owner = factory.user(username="smaug")
    member = factory.user(username="glaurung")
    project = factory.project(slug="lonely-mountain", name="The Lonely Mountain",
                              members={owner: "owner"})
    factory.treasure(owner, project=project, name="Arkenstone")

    owner_page, owner_problems = new_page()
    log_in(owner_page, owner.email)
    owner_page.goto("/")
    owner_page.click("#projects a >> text=The Lonely Mountain")
    sync_api.expect(owner_page).to_have_url(re.compile(r"/projects/lonely-mountain$"))
    owner_page.fill("#member-username", "GLAURUNG")  # usernames match regardless of case
    owner_page.select_option("#member-role", "editor")
    owner_page.click("#add-member button[type=submit]")
    row = owner_page.locator("#members tbody tr", has_text="glaurung")
    sync_api.expect(row).to_have_count(1)
    sync_api.expect(row.locator("select")).to_have_value("editor")

    member_page, member_problems = new_page()
    log_in(member_page, member.email)
    member_page.goto("/projects/lonely-mountain")
    treasure = member_page.locator("#treasures tbody tr", has_text="Arkenstone")
    sync_api.expect(treasure.get_by_role("button", name="Edit Arkenstone")).to_have_count(1)
    sync_api.expect(treasure.get_by_role("button", name="Delete Arkenstone")).to_have_count(0)
    sync_api.expect(member_page.locator("#add-member")).to_have_count(0)

    row.locator("select").select_option("viewer")
    row.get_by_role("button", name="Change the role of glaurung").click()
    sync_api.expect(owner_page.locator("#members tbody tr", has_text="glaurung").locator("select")
                    ).to_have_value("viewer")
    member_page.reload()
    sync_api.expect(member_page.locator("#treasures tbody tr", has_text="Arkenstone")).to_have_count(1)
    sync_api.expect(member_page.locator("#treasures tbody button")).to_have_count(0)
    sync_api.expect(member_page.locator("#new-treasure")).to_have_count(0)

    owner_page.get_by_role("button", name="Remove smaug").click()
    sync_api.expect(owner_page.locator("#member-error")).to_have_text(
        "A project keeps at least one owner; make someone else owner first.")
    clean(owner_problems, expected="status of 409 (Conflict)")
    clean(member_problems)


def test_an_admin_deactivates_a_user_in_the_page(new_page, factory, server):  # noqa: F811
    admin = factory.user(is_admin=True)
    target = factory.user(username="scatha")
    _row, secret = factory.token(target, scopes=["user:read"])

    target_page, _ = new_page()
    log_in(target_page, target.email)
    assert target_page.request.get("/api/me").status == 200

    admin_page, problems = new_page()
    log_in(admin_page, admin.email)
    admin_page.goto("/admin/users?q=scatha")
    with admin_page.expect_navigation():
        admin_page.get_by_role("button", name="Deactivate scatha").click()
    sync_api.expect(admin_page.locator(".flash")).to_have_text("scatha: active off.")
    sync_api.expect(admin_page.get_by_role("button", name="Reactivate scatha")).to_have_count(1)

    assert target_page.request.get("/api/me").status == 401
    target_page.goto("/tokens")
    sync_api.expect(target_page).to_have_url(re.compile(r"/login\?next="))
    refused = target_page.request.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status == 401
    clean(problems)


def pages_to_check(factory):
    """(path, email or None): every page, with something in its tables."""
    admin = factory.user(is_admin=True, username="smaug-the-golden")
    project = factory.project(slug="erebor", name="Erebor", members={admin: "owner"})
    factory.treasure(admin, project=project, name="A very long treasure name to wrap")
    factory.token(admin, name="deploy to production, the long way round",
                  scopes=["treasure:read", "project:read"], expires_at=clock.now() + timedelta(days=3))
    factory.login_session(admin, user_agent="Mozilla/5.0 (X11; Linux x86_64) " * 4)
    factory.audit_event("login:failure", admin, ip="2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
    logged_in = ["/", "/tokens", "/account/sessions", "/account/password", "/account/security",
                 "/account/profile", "/projects/erebor", "/admin/users"]
    return admin, ["/login", "/register"], logged_in


def test_every_page_fits_a_phone_and_passes_axe(new_page, factory):
    admin, public, private = pages_to_check(factory)
    axe = axe_module.Axe()
    page, problems = new_page(viewport=PHONE)
    failures = []

    def check(path: str) -> None:
        failures.extend(phone_and_axe_problems(page, axe, path, PHONE["width"]))

    for path in public:
        check(path)
    log_in(page, admin.email)
    for path in private:
        check(path)
    assert failures == []
    clean(problems)


def test_the_keyboard_reaches_the_controls_with_a_visible_focus(new_page, factory):
    user = factory.user()
    page, problems = new_page()
    log_in(page, user.email)
    page.goto("/account/profile")
    page.focus("#username")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    clean(problems)

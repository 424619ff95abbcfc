"""End to end in real headless Chromium: form login, the dashboard's own
JavaScript on the JSON API (session cookie + X-CSRF-Token), no Content
Security Policy violations, and the "shown once" token page's Copy button.

The app runs on a SQLite database of the module's own, served by waitress in
a background thread. Needs Debian's Chromium (``apt-get install chromium``)
and Playwright's Python package (``pip install playwright``; never
``playwright install``); skipped without them.
"""
from __future__ import annotations

import os
import re
import threading

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)

import waitress  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dragonhoard import application, main  # noqa: E402
from dragonhoard.cli.initdb import upgrade  # noqa: E402
from dragonhoard.models import get_engine  # noqa: E402

from .. import factories  # noqa: E402
from ..conftest import BASE_SETTINGS, ini_path  # noqa: E402

pytestmark = pytest.mark.browser

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 15_000

# Runs before any page script (injected over CDP, so the page's CSP does not
# apply to it): records every CSP violation the page reports.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "(inline)"}`
                              + ` at ${e.sourceFile || "?"}:${e.lineNumber || 0}`);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a fresh, migrated SQLite file, served on 127.0.0.1:<free port>."""
    path = tmp_path_factory.mktemp("browser-db") / "dragonhoard.sqlite"
    url = f"sqlite:///{path}"
    engine = get_engine({"sqlalchemy.url": url})
    upgrade(ini_path(), engine)
    app = main({}, **dict(BASE_SETTINGS, **{"sqlalchemy.url": url}))
    httpd = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=httpd.run, name="waitress-browser-test", daemon=True)
    thread.start()
    try:
        yield {"base_url": f"http://127.0.0.1:{httpd.effective_port}", "engine": engine}
    finally:
        httpd.close()
        thread.join(timeout=5)
        application.dispose(application.of(app.registry))
        engine.dispose()


@pytest.fixture
def factory(server):
    with Session(server["engine"]) as session:
        yield factories.Factory(session)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageProblems:
    """Console messages and uncaught errors of a page, plus CSP violation events."""

    def __init__(self, page) -> None:
        self.page = page
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))

    def _console(self, msg) -> None:
        source = msg.location.get("url", "")
        # The app has no favicon; Chromium asks for one on every page load.
        if msg.type == "error" and source.endswith("/favicon.ico"):
            return
        self.messages.append(f"console.{msg.type}: {msg.text} ({source})")

    def csp(self) -> list[str]:
        found = [m for m in self.messages
                 if "Content Security Policy" in m or "Refused to" in m]
        try:
            found += self.page.evaluate("window.__cspViolations || []")
        except sync_api.Error:  # the page is navigating; the console still counts
            pass
        return found

    def errors(self) -> list[str]:
        return [m for m in self.messages if m.startswith(("pageerror", "console.error"))]


@pytest.fixture
def context(browser, server):
    context = browser.new_context(
        base_url=server["base_url"],
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def problems(page):
    return PageProblems(page)


def log_in(page, email: str) -> None:
    """Log in through the HTML form and land on the dashboard."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation(url=re.compile(r"^http://127\.0\.0\.1:\d+/$")):
        page.click("main form button[type=submit]")
    assert page.locator("#dashboard").count() == 1
    assert page.title().startswith("Your hoard")


def phone_and_axe_problems(page, axe, url: str, width: int) -> list[str]:
    """What keeps the page at ``url`` from the pages' standards at a phone's
    ``width``: sideways scrolling, serious or critical axe-core violations."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    problems = []
    scrolled = page.evaluate("document.documentElement.scrollWidth")
    if scrolled > width:
        problems.append(f"{url}: scrolls sideways ({scrolled}px)")
    results = axe.run(page)
    assert results.response["passes"], url  # axe ran and checked something
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            problems.append(f"{url}: {violation['id']} ({violation['impact']}): "
                            f"{[n['target'] for n in violation['nodes']][:3]}")
    return problems


def test_dashboard_lists_and_creates_treasures_from_javascript(page, problems, factory, server):
    user = factory.user()
    factory.treasure(user, name="Arkenstone", value=1000, cool_factor=10)
    factory.treasure(user, name="Mithril coat", value=500, cool_factor=7)
    other = factory.user()
    factory.treasure(other, name="Not mine")

    with page.expect_response(lambda r: r.url.startswith(f"{server['base_url']}/api/treasures?")
                              and r.request.method == "GET") as listed:
        log_in(page, user.email)
    assert listed.value.status == 200

    rows = page.locator("#treasures tbody tr")
    status = page.locator("#status")
    sync_api.expect(status).to_have_text("2 treasures.")
    sync_api.expect(rows).to_have_count(2)
    names = sorted(rows.locator("td:first-child").all_text_contents())
    assert names == ["Arkenstone", "Mithril coat"]

    page.fill("#treasure-name", "Dragon's egg")
    page.fill("#treasure-value", "250")
    page.fill("#treasure-cool", "9")
    page.check("#new-treasure input[name=is_published]")
    with page.expect_response(lambda r: r.url == f"{server['base_url']}/api/treasures"
                              and r.request.method == "POST") as created:
        page.click("#new-treasure button[type=submit]")
    response = created.value
    request_headers = response.request.all_headers()
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    assert csrf and request_headers.get("x-csrf-token") == csrf
    assert response.status == 201, response.text()

    sync_api.expect(status).to_have_text("3 treasures.")
    sync_api.expect(rows).to_have_count(3)
    new_row = rows.filter(has_text="Dragon's egg")
    sync_api.expect(new_row).to_have_count(1)
    sync_api.expect(new_row.locator("td")).to_have_text(
        ["Dragon's egg", "250", "9", "", "yes", re.compile("Unpublish")]
    )
    sync_api.expect(page.locator("#treasure-error")).to_have_text("")
    sync_api.expect(page.locator("#treasure-name")).to_have_value("")  # form.reset()

    assert problems.csp() == []
    assert problems.errors() == []


def test_new_token_is_shown_once_and_copied(page, problems, factory):
    user = factory.user()
    log_in(page, user.email)

    page.goto("/tokens")
    sync_api.expect(page.locator("h1")).to_have_text("Personal access tokens")
    # The first form on the page is the header's logout form.
    assert page.locator("form").first.get_attribute("action") == "/logout"
    form = page.locator("form").nth(1)
    form.locator("#name").fill("browser laptop")
    form.locator('input[name=scopes][value="treasure:read"]').check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    token = page.locator("code#new-token")
    sync_api.expect(token).to_have_text(re.compile(r"^\s*dhp_\S+\s*$"))
    secret = token.text_content().strip()
    assert len(secret) == 50
    sync_api.expect(page.locator("h1")).to_contain_text("browser laptop")

    page.click("#copy-token")
    copy_status = page.locator("#copy-status")
    sync_api.expect(copy_status).not_to_have_text("")
    if copy_status.text_content() == "Copied.":
        assert page.evaluate("navigator.clipboard.readText()") == secret
    else:  # clipboard refused: the script selects the token instead
        assert copy_status.text_content().startswith("Selected")
        assert page.evaluate("window.getSelection().toString()").strip() == secret

    assert problems.csp() == []
    assert problems.errors() == []

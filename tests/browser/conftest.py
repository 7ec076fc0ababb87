"""Browser tests: the real app on a free port with the demo data, driven by headless Chromium.

The page CSP stays enforced (no ``bypass_csp``): axe-core is evaluated through the DevTools protocol,
which a page's CSP does not govern, so nothing the page itself runs gets a pass. Every page a test
visits goes through ``BrowserPage.check()``: no console errors, no Content-Security-Policy violations,
and no serious or critical axe-core violations.
"""

import atexit
import functools
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from lms import create_app
from lms.demo import build_demo
from lms.extensions import db
from tests.conftest import _migrate, base_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
FAILING_IMPACTS = {"serious", "critical"}
# Page structure (one h1, headings in order, every part of the page in a landmark) fails whatever axe's impact.
FAILING_RULES = {"page-has-heading-one", "heading-order", "landmark-one-main", "region", "landmark-unique"}

# Runs before the page's own scripts (DevTools "add script on new document", outside the CSP) and keeps
# the violations the page reports, in addition to the console errors Chromium logs for them.
CSP_LISTENER = """
window.__lmsCspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__lmsCspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at line ' + e.lineNumber);
});
"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\\s+/g, ' ')),
  }));
}"""


@dataclass
class DemoSnapshot:
    """A migrated SQLite database holding the demo data, and the accounts ``build_demo`` returned."""

    database: Path
    accounts: list[dict]

    def roles(self) -> list[str]:
        """Every role slug the demo hands out, in a stable order (test ids must match across xdist workers)."""
        return sorted({account["role"] for account in self.accounts})


@functools.cache
def demo_snapshot() -> DemoSnapshot:
    """Migrate a database and run the demo once per process; each test serves its own copy of it.

    Built at collection time because the role list parametrizes the tests; building the demo
    (dozens of scrypt hashes) once instead of per test keeps the browser tests fast.
    """
    tmp = Path(tempfile.mkdtemp(prefix="lms-browser-"))
    atexit.register(shutil.rmtree, tmp, True)
    url = f"sqlite:///{tmp / 'demo.db'}"
    _migrate(url, tmp)
    app = create_app(base_config(url, tmp))
    app.instance_path = str(tmp / "instance")  # demo-accounts.json goes here, not into the developer's instance/
    with app.app_context():
        ctx = build_demo()
        people = {user.username: user for user in ctx.users.values()}
        accounts = [
            {**account, "name": people[account["username"]].display_name, "locale": people[account["username"]].locale}
            for account in ctx.accounts
        ]
        db.session.remove()
        db.engine.dispose()  # closes every connection, so SQLite folds its WAL into the file that is copied
    return DemoSnapshot(database=tmp / "demo.db", accounts=accounts)


def pytest_generate_tests(metafunc):
    """``demo_role``: one test per role slug present in the demo accounts."""
    if "demo_role" in metafunc.fixturenames:
        try:
            roles = demo_snapshot().roles()
        except Exception:  # a broken demo fails each test (live_server raises it again), not the whole collection
            roles = ["demo-failed"]
        metafunc.parametrize("demo_role", roles)


class _QuietHandler(WSGIRequestHandler):
    """The live server's request log would only repeat what the tests assert."""

    def log_request(self, *args, **kwargs):
        """Do not log each request."""


@dataclass
class LiveServer:
    """The app served over HTTP for the browser, with the demo accounts it holds."""

    url: str
    app: object
    accounts: list[dict]

    def account(self, role: str) -> dict:
        """The first demo account holding ``role``."""
        return next(account for account in self.accounts if account["role"] == role)

    def translate(self, locale: str, message: str, **params) -> str:
        """``message`` as the catalogue for ``locale`` renders it (the English text until it is translated)."""
        with self.app.test_request_context(), force_locale(locale):
            return _(message, **params)


@pytest.fixture
def live_server(app_config, tmp_path):
    """A fresh copy of the demo database behind a real HTTP server on a free port, for one test."""
    snapshot = demo_snapshot()
    database = tmp_path / "live.db"
    shutil.copyfile(snapshot.database, database)
    app_config["DATABASE_URL"] = f"sqlite:///{database}"
    app = create_app(app_config)
    app.instance_path = str(tmp_path / "instance")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, accounts=snapshot.accounts)
    server.shutdown()
    thread.join()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session (Playwright's own browsers are not downloaded)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class BrowserPage:
    """A Chromium tab on the live server that checks every page it is asked to check."""

    def __init__(self, page, server: LiveServer):
        self.page = page
        self.server = server
        self.problems: list[str] = []
        self.expected_failures: set[str] = set()
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.add_init_script(CSP_LISTENER)
        page.add_init_script(AXE_SOURCE)  # sent once per tab instead of with every check

    def _on_console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text:
            self.problems.append(f"CSP: {text}")
        elif message.type in ("error", "warning"):
            # The browser logs the error status of a page the test opened on purpose (a 404 page).
            if text.startswith("Failed to load resource") and message.location.get("url") in self.expected_failures:
                return
            self.problems.append(f"console {message.type}: {text}")

    def url(self, path: str) -> str:
        """The absolute URL of a path on the live server."""
        return self.server.url + path

    def goto(self, path: str, status: int = 200):
        """Open ``path``, expect ``status``, and check the page."""
        if status >= 400:
            self.expected_failures.add(self.url(path))
        response = self.page.goto(self.url(path))
        if response is None or response.status != status:
            self.problems.clear()  # the browser's console only repeats the status reported here
            raise AssertionError(f"{path} answered {response and response.status}, expected {status}")
        self.check()
        return response

    def check(self) -> None:
        """Fail on console errors, CSP violations, and serious, critical or structural axe-core violations."""
        page = self.page
        page.wait_for_load_state("load")
        self.problems.extend(f"CSP: {v}" for v in page.evaluate("window.__lmsCspViolations || []"))
        problems, self.problems = self.problems, []  # reported once, here
        assert not problems, f"{page.url}:\n" + "\n".join(problems)
        violations = [v for v in page.evaluate(AXE_RUN) if v["impact"] in FAILING_IMPACTS or v["id"] in FAILING_RULES]
        report = "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations
        )
        assert not violations, f"axe-core on {page.url}:\n{report}"

    def login(self, account: dict) -> None:
        """Sign in through the login page's labelled fields, as a person would."""
        self.goto("/auth/login")
        self.fill_login(account["username"], account["password"])
        self.check()

    def fill_login(self, login: str, password: str) -> None:
        """Fill in and send the English login form, finding each field by its label."""
        page = self.page
        page.get_by_label("E-mail, username or phone number").fill(login)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("main").get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")


@contextmanager
def checked_tab(browser, server: LiveServer, locale: str = "en-GB"):
    """A tab in a new browser context (own cookies, Accept-Language from ``locale``) with its pages checked."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    checked = BrowserPage(context.new_page(), server)
    try:
        yield checked
        assert not checked.problems, "\n".join(checked.problems)
    finally:
        context.close()


@pytest.fixture
def browser_page(browser, live_server):
    """An English tab on the live server for one test."""
    with checked_tab(browser, live_server) as checked:
        yield checked

"""The FiftyOne App in a real browser for tests: its server and the delegated
worker as subprocesses of the test session, headless Chromium through
Playwright's sync API, and the selectors of the App's forms and panels.

Everything waits for something visible (a selector or a text), with
generous timeouts: the machines running this are slow.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import servers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts", "app")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FORM = "[data-cy=operators-prompt-modal]"
PANEL = "labelstudio_panel"
SLOW = 90_000
"""Milliseconds to wait for anything that talks to Label Studio."""


# -- processes ------------------------------------------------------------------


def app_env(label_studio) -> dict:
    """The test session's environment (private database, plugins dir) plus
    the plugin's secrets and what makes "Schedule" available in the App."""
    return dict(
        os.environ,
        FIFTYONE_LABELSTUDIO_URL=label_studio.url,
        FIFTYONE_LABELSTUDIO_API_KEY=label_studio.pat,
        FIFTYONE_ALLOW_LEGACY_ORCHESTRATORS="true",
    )


class Process:
    """A subprocess logging to ``ARTIFACTS/<name>.log``, stopped by its PID."""

    def __init__(self, name, args, env):
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.log_path = os.path.join(ARTIFACTS, f"{name}.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self, lines=40) -> str:
        with open(self.log_path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])

    def stop(self, sig=signal.SIGTERM, timeout=30.0) -> None:
        if self.alive():
            os.kill(self.pid, sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_app(env, name="app-server", timeout=120.0, sleep=time.sleep) -> tuple[Process, str]:
    """``python -m fiftyone.server.main`` on a free port; returns it and its URL.
    Inside a browser flow, pass ``sleep`` that waits with the page."""
    port = servers.free_port()
    app = Process(
        name,
        [
            sys.executable,
            "-m",
            "fiftyone.server.main",
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
        ],
        servers.app_server_env(env),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return app, url
        except (urllib.error.URLError, OSError):
            pass
        if not app.alive() or time.monotonic() > deadline:
            app.stop()
            raise RuntimeError(f"the FiftyOne App server did not start:\n{app.log()}")
        sleep(0.5)


def start_worker(env) -> Process:
    """``fiftyone delegated launch``: runs queued operations until SIGINT."""
    fiftyone = os.path.join(os.path.dirname(sys.executable), "fiftyone")
    return Process("delegated-worker", [fiftyone, "delegated", "launch"], env)


def in_thread(function, *args, **kwargs):
    """Calls ``function`` in a worker thread: ``execute_operator`` returns an
    un-awaited task in a thread where Playwright's event loop runs."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


# -- the browser ----------------------------------------------------------------


def new_page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script("window.IS_PLAYWRIGHT = true;")
    context.set_default_timeout(SLOW)
    return context.new_page()


def open_dataset(page, app_url, name, saved_view=None):
    """The dataset's page (with one of its saved views), once samples show."""
    url = f"{app_url}/datasets/{name}" + (f"?view={saved_view}" if saved_view else "")
    page.goto(url)
    page.wait_for_selector("[data-cy=looker]", timeout=SLOW)


def shot(page, name):
    """Saves ``ARTIFACTS/<name>.png``."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"))


def wait_until(page, condition, what, timeout_ms=SLOW, step_ms=1000):
    """Polls ``condition()`` (Python side) while the page keeps running."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(step_ms)


# -- operator forms -------------------------------------------------------------


def open_operator(page, label):
    """Opens an operator's form from the operator browser (backtick key)."""
    page.locator("[data-cy=panel-tab-samples]").click()
    page.keyboard.press("`")
    page.locator("[data-cy=operators-browser-search]").fill(label)
    page.get_by_text(label, exact=True).first.wait_for()
    page.keyboard.press("Enter")
    return form(page)


def form(page):
    """The operator form (prompt modal), once it shows."""
    modal = page.locator(FORM)
    modal.wait_for(timeout=SLOW)
    return modal


def field(modal, label):
    """The smallest block of a form holding the label ``label`` and an input
    (the App's labels are not ``<label>`` elements)."""
    page = modal.page
    return (
        modal.locator("div")
        .filter(has=page.get_by_text(label, exact=True))
        .filter(has=page.locator("input"))
        .last
    )


def fill(modal, label, value):
    field(modal, label).get_by_role("textbox").fill(value)


def choose(modal, label, option):
    """Picks ``option`` in the autocomplete or dropdown named ``label``."""
    field(modal, label).get_by_role("combobox").click()
    modal.page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}\b")).click()


def submit(modal, button="Execute"):
    """Clicks Execute (or Schedule) once the form is valid."""
    from playwright.sync_api import expect

    action = modal.get_by_role("button", name=button, exact=True)
    expect(action).to_be_enabled(timeout=SLOW)
    action.click()


def close_output(page):
    """Closes the operator's output (its results) once read."""
    page.locator(FORM).get_by_role("button", name="Close", exact=True).click()
    page.locator(FORM).wait_for(state="hidden")


# -- the panel ------------------------------------------------------------------


def open_panel(page):
    """Opens the Label Studio panel (new panel button) once it is connected."""
    page.locator("[data-cy=new-panel-btn]").first.click()
    page.locator(f"[data-cy=new-panel-option-{PANEL}]").click()
    content = panel(page)
    content.get_by_text("Connected to").wait_for(timeout=SLOW)
    return content


def panel(page):
    return page.locator(f"[data-cy=panel-content-{PANEL}]")


def run_row(content, key):
    """The panel's block of one run: its summary line and its buttons."""
    page = content.page
    return (
        content.locator("div")
        .filter(has=page.get_by_text(re.compile(rf"^{re.escape(key)} · created")))
        .filter(has=page.get_by_role("button", name="Delete"))
        .last
    )


def close_panels(page, timeout=SLOW):
    """Closes the Label Studio panels (the App server remembers open panels)."""
    tabs = page.locator(f"[data-cy=panel-tab-{PANEL}]")
    while tabs.count():
        tabs.first.get_by_role("button", name="Close").click(timeout=timeout)
        page.wait_for_timeout(500)
    # the close is saved by a debounced request
    page.wait_for_timeout(1500)


# -- the sidebar ----------------------------------------------------------------


def label_counts(page, field_name):
    """``{label: count}`` shown in the sidebar for a label field's labels
    (expands the field first)."""
    values = page.locator(f'[data-cy="categorical-filter-{field_name}.detections.label"]')
    if not values.count():
        page.locator(f"[data-cy=sidebar-field-arrow-enabled-{field_name}]").click()
    values.wait_for()
    counts = {}
    for box in values.locator("[data-cy^=checkbox-]").all():
        label = box.get_attribute("data-cy")[len("checkbox-") :]
        entry = (
            values.locator("div")
            .filter(has=page.locator(f'[data-cy="checkbox-{label}"]'))
            .filter(has=page.locator("[data-cy=entry-count-all]"))
            .last
        )
        counts[label] = int(entry.locator("[data-cy=entry-count-all]").inner_text())
    return counts

"""The browser tests' shared parts: Debian's Chromium for a module, and axe-core's check in a real page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from firmly.doors.web.testing import CHROMIUM, launch

AXE = Path(__file__).resolve().parents[1] / "browser" / "node_modules" / "axe-core" / "axe.min.js"


def chromium(*, axe: bool) -> Iterator[Any]:
    """One browser for a test module: skipped without Chromium on a developer's machine, failed in CI."""
    if not Path(CHROMIUM).is_file():
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/test does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if axe and not AXE.is_file():
        pytest.fail(f"no axe-core at {AXE}: run scripts/_venv.sh (npm ci --prefix tests/browser)")
    with playwright_api.sync_playwright() as pw:
        found = launch(pw)
        yield found
        found.close()


def sign_in(page: Any, base: str, email: str, password: str) -> None:
    """Through the login form, as a person would; the page is then wherever the login leads."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def accessible(page: Any) -> None:
    """No serious or critical axe-core violation on the page as it is now (contrast and labels included).

    The page's context needs `bypass_csp=True`: axe is injected as an inline script."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
    }""")
    assert found == [], f"{page.url}: {found}"


@dataclass
class Site:
    """A server started for a module's browser tests: its address and its database."""

    base: str
    url: str

"""axe-core in a real page: the accessibility check every browser test of the desk shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[1] / "browser" / "node_modules" / "axe-core" / "axe.min.js"


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

"""Every setting is documented in the README, and the README's commands exist."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from firmly import config
from firmly.doors.cli import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [s.env for s in config.SETTINGS if f"`{s.env}`" not in README]
    assert missing == []


def test_readme_commands_exist() -> None:
    runner = CliRunner()
    blocks = README.split("```")[1::2]  # the fenced code blocks
    commands = {line.split()[1] for block in blocks for line in block.splitlines() if line.startswith("firmly ")}
    assert {"init", "rulebook", "ingest", "tick", "counterparty", "decisions", "review", "simulate",
            "replay"} <= commands
    for command in commands:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, f"firmly {command} --help: {result.output}"


def test_setup_scripts_named_in_readme_exist() -> None:
    root = Path(__file__).resolve().parents[2]
    for script in ("scripts/demo", "scripts/test"):
        assert f"bash {script}" in README
        assert (root / script).is_file()
    assert "scripts/test" in (root / ".ci" / "run").read_text()


def test_every_workspace_setting_is_documented() -> None:
    from firmly.service import outbox  # noqa: PLC0415

    missing = [name for name in outbox.SETTINGS if f"`{name}`" not in README]
    assert missing == [], f"document these `firmly workspace set` keys in README.md: {missing}"

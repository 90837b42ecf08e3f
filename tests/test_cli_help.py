"""Every command and option is documented (sqlite-utils habit, STYLE.md item 9)."""

from __future__ import annotations

import typer
from typer.main import get_command

from truecost.cli import app


def test_every_command_and_option_has_help() -> None:
    cli = get_command(app)
    assert isinstance(cli, typer.core.TyperGroup)
    missing = []
    for name, cmd in cli.commands.items():
        if not (cmd.help or "").strip():
            missing.append(name)
        for p in cmd.params:
            if p.name == "help":
                continue
            if not (getattr(p, "help", None) or "").strip():
                missing.append(f"{name} {p.name}")
    assert not missing, f"undocumented: {missing}"


def test_expected_commands_exist() -> None:
    cli = get_command(app)
    assert isinstance(cli, typer.core.TyperGroup)
    assert {
        "estimate",
        "compare",
        "presets",
        "catalog",
        "validate",
        "sensitivity",
        "report",
        "serve",
        "plan",
    } <= set(cli.commands)

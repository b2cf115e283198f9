"""A workspace written by ``okr-report init`` is one ``okr-report validate`` accepts as it is."""

from __future__ import annotations

from typer.testing import CliRunner

from flows import cli
from tests.test_init import write_tickets


def test_init_on_the_ticket_log_then_validate_passes(tmp_path):
    ws = tmp_path / "helpdesk"
    runner = CliRunner()
    made = runner.invoke(cli.app, ["init", "--from", str(write_tickets(ws)), "--workspace", str(ws)])
    assert made.exit_code == 0, made.stdout + made.stderr
    checked = runner.invoke(cli.app, ["validate", "--workspace", str(ws)])
    assert checked.exit_code == 0, checked.stdout + checked.stderr

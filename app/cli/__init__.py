"""Management commands (``flask --app wsgi …``). Each prints JSON with ``--json``."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from app.cli import demo, meetings, units, wechat

    for group in (units.units_cli, meetings.meetings_cli, meetings.organizers_cli, demo.demo_cli,
                  wechat.wechat_cli):
        app.cli.add_command(group)
    try:
        from app.cli import contacts
    except ImportError:  # pragma: no cover - the importer arrives with its own module
        return
    app.cli.add_command(contacts.contacts_cli)

"""Management commands (``flask --app wsgi …``). Each prints JSON with ``--json``."""

from __future__ import annotations

from flask import Flask

from app.cli import contacts, demo, meetings, units, wechat


def register_cli(app: Flask) -> None:
    for group in (units.units_cli, units.admins_cli, meetings.meetings_cli, meetings.organizers_cli, demo.demo_cli,
                  wechat.wechat_cli, contacts.contacts_cli):
        app.cli.add_command(group)

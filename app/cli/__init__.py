"""Management commands (``flask --app wsgi …``). Each prints JSON with ``--json``."""

from __future__ import annotations

from flask import Flask

from app.cli import (
    attendance,
    badges,
    contacts,
    demo,
    identities,
    jobs,
    meals,
    meetings,
    people,
    registrations,
    reports,
    rooms,
    seats,
    sms,
    units,
    wechat,
)


def register_cli(app: Flask) -> None:
    for group in (units.units_cli, units.admins_cli, meetings.meetings_cli, meetings.sessions_cli, meetings.agenda_cli, demo.demo_cli,
                  people.invitees_cli, people.organizers_cli,
                  wechat.wechat_cli, contacts.contacts_cli, identities.identities_cli,
                  jobs.jobs_cli, reports.reports_cli, sms.sms_cli, badges.badges_cli,
                  meals.meals_cli, meals.buses_cli, rooms.rooms_cli, seats.seats_cli,
                  registrations.registrations_cli):
        app.cli.add_command(group)
    # Last: it joins the ``reports`` group whoever made it (app/cli/attendance.py).
    attendance.register(app)

"""Browser-facing pages: attendee H5 (/m), organizer console (/admin), unit offices (/units),
the big screen (/screen), and health checks.

This package sets the pages up in one place: :data:`BLUEPRINTS` lists every browser-facing
blueprint (one per audience) in registration order, and :func:`init_app` gives the app the one
template folder, the globals every page sees (:mod:`app.web.pages`) and the error pages.
"""

from __future__ import annotations

from flask import Flask

from app.web import (
    attendee,
    auth,
    codes,
    confidentiality,
    console,
    console_attendance,
    console_badges,
    console_cards,
    console_desks,
    console_door,
    console_lodging,
    console_login,
    console_meals,
    console_meetings,
    console_notices,
    console_people,
    console_registration,
    console_reports,
    console_seating,
    console_system,
    desk,
    documents,
    headers,
    health,
    input_guard,
    jobs,
    mine,
    notice_page,
    registration_page,
    screen,
    sms_callback,
    surveys,
    units_office,
    units_office_people,
    votes,
)
from app.web.errors import register_error_handlers
from app.web.pages import TEMPLATES, page_globals

BLUEPRINTS = (health.bp, auth.bp, attendee.bp, units_office.bp, screen.bp, console_login.bp, console_system.bp,
              console_meetings.bp, console_people.bp, console_door.bp, console.bp, codes.bp, documents.bp, votes.bp,
              surveys.bp, mine.bp, jobs.bp, console_attendance.bp, units_office_people.bp, sms_callback.bp,
              console_reports.bp, console_notices.bp, notice_page.bp, confidentiality.bp,
              console_cards.bp, console_desks.bp, desk.bp, console_seating.bp, console_badges.bp,
              console_meals.bp, console_lodging.bp, registration_page.bp, console_registration.bp)


def init_app(app: Flask) -> None:
    # Flask reads the folder on the first render, so blueprints need no template_folder of their own.
    app.template_folder = TEMPLATES
    app.context_processor(page_globals)
    register_error_handlers(app)
    headers.init_app(app)
    input_guard.init_app(app)  # before any blueprint registers a route: it sets the int converter

"""What every HTML page shares: the one template folder (``base.html`` there is the page shell all
pages extend), the static folder, and the globals every template sees."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import current_app
from markupsafe import Markup

from app.services.meetings.organizers import RIGHTS, is_system_admin
from app.services.timeutil import fmt_date_cn, fmt_hm, fmt_range_cn

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES = str(WEB_DIR / "templates")
STATIC = str(WEB_DIR / "static")


@cache
def h5_css() -> Markup:
    # Inlined into every H5 page: one round trip on a weak connection instead of two. It is our own
    # file, never user data, so marking it safe is sound.
    return Markup((WEB_DIR / "static" / "h5.css").read_text(encoding="utf-8"))


STATE_LABELS = {"draft": "草稿", "published": "已发布", "closed": "已结束", "archived": "已归档"}
RIGHT_LABELS = {"owner": "负责人", "staff": "会务人员", "viewer": "只读"}


def console_rights(right: str | None) -> frozenset[str]:
    """What a console page may offer for ``right``; the service checks again on every action."""
    return RIGHTS.get(right, frozenset()) if right else frozenset()


def page_globals() -> dict[str, object]:
    """The app-wide context processor; a blueprint adds only what is its own (labels, the account)."""
    return {"h5_css": h5_css(), "fmt_hm": fmt_hm, "fmt_date_cn": fmt_date_cn, "fmt_range_cn": fmt_range_cn,
            "console_rights": console_rights, "is_system_admin": is_system_admin,
            "state_label": STATE_LABELS.get, "right_label": RIGHT_LABELS.get, "has_endpoint": has_endpoint}


def has_endpoint(endpoint: str) -> bool:
    """Whether the app serves ``endpoint`` (a shared nav names the pages of several blueprints)."""
    return endpoint in current_app.view_functions

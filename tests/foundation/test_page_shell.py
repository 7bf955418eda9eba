"""One page shell: every HTML page extends templates/base.html, the one template with a doctype."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, nodes
from sqlalchemy import select

from app.services.live import headcount
from app.web.pages import TEMPLATES
from models import WechatIdentity
from tests.live.conftest import build_meeting, login

ROOT = Path(TEMPLATES)
SHELL = "base.html"
DOCTYPE = re.compile(r"<!doctype", re.IGNORECASE)


def _templates() -> list[str]:
    return sorted(path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*.html"))


def _pages() -> list[str]:
    """Full pages and layouts: every template but the shell and partials (names starting with ``_``)."""
    return [name for name in _templates() if name != SHELL and not name.rsplit("/", 1)[-1].startswith("_")]


def _parent(name: str) -> str | None:
    tree = Environment().parse((ROOT / name).read_text(encoding="utf-8"))
    extends = list(tree.find_all(nodes.Extends))
    if not extends:
        return None
    assert len(extends) == 1 and isinstance(extends[0].template, nodes.Const), f"{name}: extends one fixed name"
    return extends[0].template.value


@pytest.mark.parametrize("name", _pages())
def test_every_page_extends_the_shell(name):
    chain = [name]
    while chain[-1] != SHELL:
        parent = _parent(chain[-1])
        assert parent is not None, f"{' -> '.join(chain)} does not reach {SHELL}"
        assert parent not in chain and (ROOT / parent).is_file(), f"{' -> '.join(chain)} -> {parent}"
        chain.append(parent)


def test_only_the_shell_has_a_doctype():
    with_doctype = [name for name in _templates() if DOCTYPE.search((ROOT / name).read_text(encoding="utf-8"))]
    assert with_doctype == [SHELL]
    # Nor does a view build a page of its own in a string.
    views = ROOT.parent.glob("*.py")
    assert [path.name for path in views if DOCTYPE.search(path.read_text(encoding="utf-8"))] == []


@pytest.fixture
def people(db, factory):
    live = build_meeting(factory, "SHELL1")
    attendee = factory.identity(live.people[0])
    db.session.commit()
    organizer = db.session.scalar(select(WechatIdentity.id).where(WechatIdentity.oa_openid == live.organizer_openid))
    return {"attendee": attendee.id, "organizer": organizer}


def _screen(app) -> str:
    return f"/screen/SHELL1?k={headcount.screen_key(app.config['SECRET_KEY'], 'SHELL1')}"


SAMPLES = {  # audience: (who is logged in, the page, its status)
    "attendee": ("attendee", lambda app: "/m/SHELL1", 200),
    "unit office": (None, lambda app: "/units/login", 200),
    "big screen": (None, _screen, 200),
    "console": ("organizer", lambda app: "/admin/SHELL1", 200),
    "error": (None, lambda app: "/no/such/page", 404),
    "error in a blueprint": ("attendee", lambda app: "/m/NOSUCH", 404),
}


@pytest.mark.parametrize("audience", SAMPLES)
def test_pages_of_every_audience_render_in_the_shell(app, client, people, audience):
    who, url, status = SAMPLES[audience]
    if who:
        login(client, people[who])
    res = client.get(url(app), headers={"Accept": "text/html"})
    assert res.status_code == status and res.mimetype == "text/html"
    page = res.get_data(as_text=True)
    assert page.startswith('<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n')
    assert len(DOCTYPE.findall(page)) == 1 and page.count("<html") == 1 and page.count("<body") == 1
    assert page.rstrip().endswith("</body>\n</html>")

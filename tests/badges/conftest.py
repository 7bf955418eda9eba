"""A meeting for the badges' tests: the console's organizers (tests/console/conftest.py) and a roster
of every role, two delegations, a long name, a rare character (CJK Extension B), and photos: a good
one, a broken one, one whose file is gone."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from PIL import Image

from app.services import storage
from models import Contact, InviteeRole
from models.registrations import Registration, RegistrationForm, RegistrationStatus
from tests.console.conftest import Console, build_console

LONG_NAME = "阿卜杜热合曼·买买提明·艾合买提江"
RARE_NAME = "王𠀾"  # U+2003E, beyond the cached font's coverage


def jpeg(width: int = 600, height: int = 800, colour=(90, 120, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Scene:
    console: Console
    people: dict[str, Contact] = field(default_factory=dict)

    @property
    def meeting(self):
        return self.console.meeting


def add_person(factory, scene: Scene, key: str, name: str, *, role=InviteeRole.DELEGATE, group=None,
               photo: str | None = None, unit=None) -> Contact:
    contact = factory.contact(unit or scene.console.unit, name=name, title="处长")
    factory.invitee(scene.meeting, contact, role=role, group_name=group)
    if photo is not None:
        form = factory.db.session.query(RegistrationForm).filter_by(meeting_id=scene.meeting.id).first()
        if form is None:
            form = RegistrationForm(meeting_id=scene.meeting.id, title="代表报名", role=InviteeRole.DELEGATE)
            factory.db.session.add(form)
            factory.db.session.flush()
        factory.db.session.add(Registration(
            meeting_id=scene.meeting.id, form_id=form.id, batch=f"b{contact.id}", submitted_by="test",
            status=RegistrationStatus.APPROVED, name=name, phone=contact.phone, contact_id=contact.id, photo=photo,
            group_name=group))
        factory.db.session.flush()
    scene.people[key] = contact
    return contact


def build_scene(factory) -> Scene:
    scene = Scene(build_console(factory, "BDG1"))
    scene.meeting.title = "2026年全市经济工作会议"
    add_person(factory, scene, "leader", "市长张", role=InviteeRole.LEADER)
    add_person(factory, scene, "long", LONG_NAME, group="新疆代表团")
    add_person(factory, scene, "rare", RARE_NAME, group="第一代表团")
    add_person(factory, scene, "photo", "有照片", group="第一代表团", photo=storage.put(jpeg()))
    add_person(factory, scene, "broken", "坏照片", group="第一代表团", photo=storage.put(b"\xff\xd8\xff\xe0not a jpeg"))
    add_person(factory, scene, "gone", "照片丢失", role=InviteeRole.OBSERVER, photo="0" * 64)
    add_person(factory, scene, "media", "记者刘", role=InviteeRole.MEDIA)
    add_person(factory, scene, "staff", "会务孙", role=InviteeRole.STAFF)
    factory.db.session.commit()
    return scene


@pytest.fixture
def scene(factory) -> Scene:
    return build_scene(factory)

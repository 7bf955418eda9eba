"""A person's service card to its response model."""

from __future__ import annotations

from app.services.cards.fields import FIELDS, SECTIONS
from app.services.cards.resolve import Card, Item, headline_parts
from miniprogram_api import schemas_cards as s
from models import Meeting


def _item(card: Card, item: Item) -> s.CardItemOut:
    return s.CardItemOut(time=item.time, title=item.title, place=item.place, speaker=item.speaker,
                         date=item.day.isoformat(),
                         past=item.at is not None and card.now is not None and item.at <= card.now)


def card_out(meeting: Meeting, card: Card) -> s.ServiceCardOut:
    section_of = {f.key: title for title, fields in SECTIONS for f in fields}
    return s.ServiceCardOut(
        meeting_code=meeting.code,
        fields=[s.CardFieldOut(key=key, label=FIELDS[key].label, section=section_of[key], value=card.fields[key],
                               tel=card.tel(key)) for key in FIELDS if card.fields.get(key)],
        headline=" · ".join(headline_parts(card)),
        next_item=_item(card, card.next_item) if card.next_item else None,
        next_item_when=card.when(card.next_item) if card.next_item else "",
        day_label=card.day_label, agenda=[_item(card, i) for i in card.agenda])

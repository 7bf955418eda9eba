"""The personal service card (服务卡): the caller's own, never anyone else's."""

from __future__ import annotations

from datetime import UTC, datetime

from app.services.cards.resolve import card_for
from app.services.meetings.visibility import participating_meeting
from miniprogram_api import present_cards, schemas_cards
from miniprogram_api.auth import bound_contact, current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import ErrorBody, api


@api(bp, "/meetings/<code>/card", authenticate=current_identity, tags=["会议"],
     summary="我的服务卡：座位、分组、会场、用餐、乘车、住宿、联络员与值班室电话、今日议程与下一项",
     responses={200: schemas_cards.ServiceCardOut, 403: ErrorBody, 404: ErrorBody})
def my_card(code: str, me):
    """只返回调用者本人（已绑定的通讯录身份）的服务卡；未绑定返回 identity_not_bound，不是参会人员返回 not_participant。"""
    contact = bound_contact(me)
    meeting = participating_meeting(code, contact)
    return present_cards.card_out(meeting, card_for(meeting, contact.id, now=datetime.now(UTC)))

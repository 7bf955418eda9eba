"""My meetings, newest first."""

from __future__ import annotations

from flask import current_app

from app.services.meetings import history
from miniprogram_api import present, schemas
from miniprogram_api.auth import bound_contact, current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import ErrorBody, api


@api(bp, "/me/history", query=schemas.HistoryQuery, authenticate=current_identity, tags=["登录与身份"],
     summary="我参加或受邀的会议及仍可查看的材料（最新在前，分页）", responses={200: schemas.HistoryPage, 403: ErrorBody})
def my_history(me, query: schemas.HistoryQuery):
    page = history.my_meetings(bound_contact(me), page=query.page, per_page=query.per_page,
                               secret_key=current_app.config["SECRET_KEY"], identity_id=me.id)
    return present.history_page(page)

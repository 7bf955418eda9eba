"""Response models of the personal service card (服务卡) in the mini program."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CardFieldOut(BaseModel):
    key: str = Field(description="seat、group、venue、room、map_url、meal_name、meal_place、meal_time、meal_table、"
                                 "bus_route、bus_time、bus_car、hotel_name、hotel_room、liaison_name、liaison_phone、"
                                 "duty_phone、note")
    label: str = Field(description="中文名称，如 座位、联络员电话")
    section: str = Field(description="所属栏目，如 座位与分组、用餐、联系")
    value: str
    tel: str | None = Field(None, description="电话类字段的拨号地址（tel:…），用于 wx.makePhoneCall")


class CardItemOut(BaseModel):
    time: str = Field(description="HH:MM；无时间的议程项为空")
    title: str
    place: str = ""
    speaker: str = ""
    date: str = Field(description="YYYY-MM-DD（北京时间）")
    past: bool = Field(description="是否已开始")


class ServiceCardOut(BaseModel):
    meeting_code: str
    fields: list[CardFieldOut] = Field(description="只列出已设置的项，按栏目顺序")
    headline: str = Field(description="一句话摘要，与扫码签到回复的第一行相同，如“座位 3 排 12 号 · 午餐 2 楼宴会厅 · 下一项 14:30 分组讨论”")
    next_item: CardItemOut | None = Field(None, description="下一项议程（现在之后开始的第一项）")
    next_item_when: str = Field("", description="下一项的时间，今天为 HH:MM，否则带日期，如 12月4日 09:00")
    day_label: str = Field(description="今日议程，或 议程（12月4日）")
    agenda: list[CardItemOut]

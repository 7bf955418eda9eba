"""Buses (乘车): routes with their departure times and cars, who rides in which car, the manifests.

Routes, cars and moves are checked here (stable codes, Chinese messages) and written by the
caller's unit of work; the automatic plan and moves go through :mod:`app.services.logistics.placing`
(never over a car's seats, under the route's row lock). A car keeps a unit together.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services import audit, exports
from app.services.logistics import packing, placing
from app.services.logistics.people import Person, roster
from app.services.logistics.placing import LogisticsError, clean_text, clean_time
from app.services.timeutil import local
from models import BusAssignment, BusCar, BusRoute, Contact, Meeting

KIND = placing.Kind(BusRoute, BusCar, BusAssignment, "route_id", "car_id", "车辆", "bus", packing.by_unit,
                    "route_not_found", "car_not_found", "departs_at")
#: A route stays the card's current one this long after it leaves: the person is on the bus, and the
#: card still says which car.
RIDING = timedelta(minutes=30)
EXPORT_JOB = "buses_export"


def routes_of(meeting: Meeting) -> list[BusRoute]:
    return list(db.session.scalars(select(BusRoute).where(BusRoute.meeting_id == meeting.id)
                                   .order_by(BusRoute.departs_at, BusRoute.id)))


def get_route(meeting: Meeting, route_id: object) -> BusRoute:
    return placing.get_parent(KIND, meeting, route_id)


def get_car(meeting: Meeting, car_id: object) -> BusCar:
    return placing.get_place(KIND, meeting, car_id)


def save_route(meeting: Meeting, form: dict, *, actor: str, route: BusRoute | None = None) -> BusRoute:
    """Add a route (``route`` None) or change one, from a form's ``name``, ``day`` (2026-12-03),
    ``departs`` (07:30), ``from_place``, ``to_place``, ``notes``."""
    values = {"name": clean_text(form.get("name"), "路线名称", 64, required=True),
              "departs_at": clean_time(form.get("day"), form.get("departs"), "发车时间"),
              "from_place": clean_text(form.get("from_place"), "出发地", 100),
              "to_place": clean_text(form.get("to_place"), "目的地", 100),
              "notes": clean_text(form.get("notes"), "备注", 200)}
    if route is None:
        route = BusRoute(meeting_id=meeting.id)
        db.session.add(route)
    for key, value in values.items():
        setattr(route, key, value)
    db.session.flush()
    audit.record(actor, "bus.route_save", meeting_id=meeting.id, target=f"bus:{route.id}", name=route.name)
    return route


def delete_route(meeting: Meeting, route: BusRoute, *, actor: str) -> None:
    placing.remove(meeting, route, actor=actor, action="bus.route_delete", target=f"bus:{route.id}", name=route.name)


def _car_values(form: dict) -> dict:
    return {"plate": clean_text(form.get("plate"), "车牌号", 16).upper(),
            "driver_name": clean_text(form.get("driver_name"), "司机姓名", 32),
            "driver_phone": placing.clean_phone(form.get("driver_phone"), "司机电话")}


def add_cars(meeting: Meeting, route: BusRoute, form: dict, *, actor: str) -> list[BusCar]:
    """``count`` cars of ``seats`` ("N 号车" after the highest number), or one car named ``label``
    with its ``plate`` and driver."""
    count = placing.clean_int(form.get("count") or 1, "count_invalid", placing.MAX_BATCH)
    seats = placing.clean_int(form.get("seats"), "seats_invalid", placing.MAX_SEATS)
    label = clean_text(form.get("label"), "车号", 16)
    values = _car_values(form)
    if label and count > 1:
        raise LogisticsError("count_invalid", limit=1)
    existing = [c.label for c in route.cars]
    labels = [label] if label else placing.next_labels(existing, count, " 号车")
    taken = next((x for x in labels if x in existing), None)
    if taken:
        raise LogisticsError("label_taken", label=taken)
    position = max((c.position for c in route.cars), default=0) + 1
    cars = [BusCar(route_id=route.id, label=x, seats=seats, position=position + i, **values)
            for i, x in enumerate(labels)]
    db.session.add_all(cars)
    db.session.flush()
    db.session.expire(route, ["cars"])
    audit.record(actor, "bus.cars_add", meeting_id=meeting.id, target=f"bus:{route.id}", count=len(cars), seats=seats)
    return cars


def update_car(meeting: Meeting, car: BusCar, form: dict, *, actor: str) -> BusCar:
    label = placing.check_label(KIND, car, form.get("label"), "车号")
    seats = placing.check_seats(KIND, car, form.get("seats"))
    values = _car_values(form)
    car.label, car.seats = label, seats
    for key, value in values.items():
        setattr(car, key, value)
    db.session.flush()
    audit.record(actor, "bus.car_save", meeting_id=meeting.id, target=f"bus_car:{car.id}", label=label, seats=seats)
    return car


def delete_car(meeting: Meeting, car: BusCar, *, actor: str) -> None:
    placing.remove(meeting, car, actor=actor, action="bus.car_delete", target=f"bus_car:{car.id}", label=car.label)


def auto_assign(meeting: Meeting, route: BusRoute, *, actor: str, replace: bool = False,
                people: list[Person] | None = None) -> placing.AutoResult:
    return placing.auto_assign(KIND, meeting, route, actor=actor, replace=replace, people=people)


def move(meeting: Meeting, route: BusRoute, contact_id: object, car_id: object, *, actor: str) -> str:
    return placing.move(KIND, meeting, route, contact_id, car_id, actor=actor)


# -- manifests -------------------------------------------------------------------------------------

@dataclass
class CarView:
    car: BusCar | None
    people: list[Person] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.car.label if self.car is not None else "未安排车辆"


@dataclass
class RouteView:
    route: BusRoute
    cars: list[CarView]
    unplaced: CarView

    @property
    def seats(self) -> int:
        return sum(c.car.seats for c in self.cars if c.car is not None)

    @property
    def riders(self) -> int:
        return sum(len(c.people) for c in self.cars)


def views(meeting: Meeting, routes: list[BusRoute] | None = None,
          people: list[Person] | None = None) -> list[RouteView]:
    """Each route's cars with their riders (the manifest), and who has no car yet."""
    routes = routes_of(meeting) if routes is None else routes
    people = roster(meeting.id) if people is None else people
    at = placing.seat_map(KIND, routes, people)
    out = []
    for route in routes:
        here = at[route.id]
        out.append(RouteView(route, [CarView(c, here.get(c.id, [])) for c in route.cars], CarView(None, here.get(None, []))))
    return out


def export_xlsx(meeting: Meeting, *, progress=None) -> tuple[bytes, str]:
    """The manifests: one row per rider (route, car, plate, driver, seat number, name, unit, phone)."""
    route_views = views(meeting)
    ids = [p.contact_id for v in route_views for c in v.cars for p in c.people]
    phones = dict(db.session.execute(select(Contact.id, Contact.phone).where(Contact.id.in_(ids))).all()) if ids else {}
    rows, summary = [], []
    for n, view in enumerate(route_views, start=1):
        r = view.route
        when = f"{local(r.departs_at):%Y-%m-%d %H:%M}"
        for car_view in view.cars:
            car = car_view.car
            summary.append([r.name, when, r.from_place, r.to_place, car.label, car.plate, car.driver_name,
                            car.driver_phone, car.seats, len(car_view.people)])
            rows.extend([r.name, when, car.label, car.plate, car.driver_name, car.driver_phone, i, p.name,
                         p.unit_name, phones.get(p.contact_id, "")] for i, p in enumerate(car_view.people, start=1))
        if view.unplaced.people:
            summary.append([r.name, when, r.from_place, r.to_place, "未安排车辆", "", "", "", None,
                            len(view.unplaced.people)])
        if progress:
            progress(n, len(route_views))
    data = placing.write_sheets([
        ("车辆汇总", ["路线", "发车时间", "出发地", "目的地", "车号", "车牌号", "司机", "司机电话", "座位数", "人数"], summary),
        ("乘车名单", ["路线", "发车时间", "车号", "车牌号", "司机", "司机电话", "序号", "姓名", "单位", "手机"], rows),
    ])
    return data, f"{exports.safe_filename(meeting.title) or meeting.code}-乘车名单-{local(datetime.now(UTC)):%Y-%m-%d}.xlsx"


def submit_export(meeting: Meeting, *, actor: str, job_actor: str) -> int:
    return jobs.submit(EXPORT_JOB, export_job, meeting.id, actor, actor=job_actor, meeting_id=meeting.id)


def export_job(meeting_id: int, actor: str) -> dict:
    """The recorded job behind the console's 导出乘车名单."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise LogisticsError("route_not_found")
    data, name = export_xlsx(meeting, progress=lambda done, total: jobs.report_progress(done, total, "正在生成乘车名单"))
    audit.record(actor, "bus.export", meeting_id=meeting.id, file=name, job=jobs.current_job_id())
    return exports.stored(data, name)


def timeline(meeting_id: int, *, after: datetime | None = None,
             contact_ids: Collection[int] | None = None) -> placing.Timeline:
    """contact_id → [(until, the card's bus fields)], each placed person's routes in time order,
    ``until`` :data:`RIDING` after the departure; only those not over at ``after`` when given."""
    stmt = (select(BusAssignment.contact_id, BusRoute.name, BusRoute.departs_at, BusCar.label, BusCar.plate)
            .join(BusRoute, BusRoute.id == BusAssignment.route_id)
            .join(BusCar, BusCar.id == BusAssignment.car_id)
            .where(BusRoute.meeting_id == meeting_id)
            .order_by(BusRoute.departs_at, BusRoute.id))
    if after is not None:
        stmt = stmt.where(BusRoute.departs_at > after - RIDING)
    if contact_ids is not None:
        stmt = stmt.where(BusAssignment.contact_id.in_(list(contact_ids)))
    out: placing.Timeline = {}
    for contact_id, name, departs, label, plate in db.session.execute(stmt):
        car = f"{label}（{plate}）" if plate and len(label) + len(plate) + 2 <= 32 else label
        out.setdefault(contact_id, []).append((departs + RIDING, {"bus_route": name,
                                                                  "bus_time": placing.when_cn(departs), "bus_car": car}))
    return out

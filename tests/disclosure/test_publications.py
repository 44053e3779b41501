"""一公开: a concluded inspection leaves a publication record due in 10 working days (the setting),
naming the entity and the problems, never a person; published or withheld with a reason."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.config import get_settings
from jianguan.core import workflow
from jianguan.core.errors import Invalid
from jianguan.core.workdays import local_date
from jianguan.disclosure import service
from jianguan.disclosure.models import Publication
from jianguan.inspections import visits
from tests.inspections.conftest import World
from tests.inspections.test_visits import PNG, begun, on_site


def test_a_concluded_inspection_is_due_for_publication_without_personal_data(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    a, _ = on_site(db, world, record)
    first = record.answers[0]
    for answer in record.answers:
        visits.save_answer(db, inspection_id=record.id, point_code=answer.point_code,
                           answer="no" if answer is first else "yes", value="5" if answer is not first else "",
                           note="许可证已过期" if answer is first else "", actor=a)
    visits.sign(db, inspection_id=record.id, signer="店长 李四", stream=io.BytesIO(PNG), actor=a)
    visits.decide(db, inspection_id=record.id, action="finish_visit", actor=a)
    visits.decide(db, inspection_id=record.id, action="send_feedback", actor=a)
    assert db.scalar(select(Publication)) is None  # not before the inspection is closed
    finding = record.findings[0]
    visits.decide_finding(db, finding_id=finding.id, action="transfer_to_case", comment="无证经营，移送立案", actor=a)
    visits.decide(db, inspection_id=record.id, action="review", actor=a)
    visits.decide(db, inspection_id=record.id, action="close", actor=a)
    published = db.scalars(select(Publication)).one()
    assert published.state == "pending" and published.working_days == get_settings().publication_working_days == 10
    concluded = local_date(record.closed_at)  # type: ignore[arg-type]
    assert published.due_date == workflow.calendar(db).add_working_days(concluded, 10).date
    content = published.content
    assert content["entity"] == db.get(type(world.entities[0]), record.entity_id).name  # type: ignore[union-attr]
    assert content["problems"][0]["basis"] == "《中华人民共和国食品安全法》第三十五条"
    text = str(content)
    assert "李四" not in text and "执法员" not in text and not any(o.name in text for o in world.officers)
    assert service.for_inspection(db, record, actor=None) is published  # one record per inspection
    with pytest.raises(Invalid):
        service.decide(db, publication_id=published.id, action="withhold", actor=world.leader)
    service.decide(db, publication_id=published.id, action="publish", actor=a)
    assert published.state == "published" and published.published_at is not None


def test_the_publication_page(fresh_db_url: str) -> None:
    from fastapi.testclient import TestClient

    from jianguan.app import create_app
    from jianguan.db import session_scope
    from tests.inspections.conftest import make_world
    from tests.officers.test_pages import csrf_of, sign_in

    with session_scope() as db:
        world = make_world(db)
        record = begun(db, world)[0]
        a, _ = on_site(db, world, record)
        for answer in record.answers:
            visits.save_answer(db, inspection_id=record.id, point_code=answer.point_code, answer="yes", actor=a)
        visits.refuse_signature(db, inspection_id=record.id, reason="拒绝签字", actor=a)
        visits.decide(db, inspection_id=record.id, action="finish_visit", actor=a)
        visits.decide(db, inspection_id=record.id, action="conclude", actor=a)
        name = db.get(type(world.entities[0]), record.entity_id).name  # type: ignore[union-attr]
    with TestClient(create_app()) as client:
        sign_in(client, "leader")
        page = client.get("/disclosure")
        assert page.status_code == 200 and name in page.text and "未发现问题" in page.text
        assert "10 个工作日内公示" in page.text
        version = page.text.split('name="version" value="')[1].split('"')[0]
        publication = page.text.split('action="/disclosure/')[1].split("/")[0]
        done = client.post(f"/disclosure/{publication}/decide", data={"csrf_token": csrf_of(client),
                                                                      "action": "publish", "version": version})
        assert "已完成：公示" in done.text
        assert name in client.get("/disclosure?state=published").text

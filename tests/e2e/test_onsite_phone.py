"""On a phone (375 px): an officer answers the checklist, takes a photo, loses the connection half-way,
goes on answering, has the representative sign, presses 完成现场检查 while still offline — and when the
connection is back everything reaches the server and the visit is finished."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.catalog import service as catalog
from jianguan.db import session_scope
from jianguan.entities.models import Entity
from jianguan.inspections import draws, rules, service, visits
from jianguan.inspections.models import Inspection, InspectionEvidence
from jianguan.inspections.schemas import PlanIn
from jianguan.officers import credentials, roster
from jianguan.officers.models import Agency
from jianguan.reference import service as ref
from tests.catalog.conftest import item_data
from tests.e2e.conftest import PASSWORD, LiveServer, screenshot, sign_in

ITEM = "33000001901000"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


def _on_site() -> int:
    """A complaint-triggered visit to a noodle shop, prepared and started by 王建国 and 李芳."""
    with session_scope() as db:
        ref.load_all(db)
        rules.load(db)
        agency = db.scalars(select(Agency)).one()
        leader = auth.create_user(db, username="liuju", display_name="刘局长", password=PASSWORD, roles=["leader"],
                                  agency_id=agency.id, actor=None)
        users = {u.username: u for u in db.scalars(select(User))}
        catalog.propose_item(db, data=item_data(ITEM, effective_from=dt.date(2026, 1, 1)), actor=None, load=True)
        for i, username in enumerate(("wangjg", "lifang")):
            officer = roster.create_officer(db, agency_id=agency.id, name=users[username].display_name,
                                            domains=["food"], user_id=users[username].id, actor=None)
            credentials.issue_credential(db, officer_id=officer.id, number=f"XH2026E{i}", domains=["food"],
                                         issued_on=dt.date(2025, 1, 1), expires_on=dt.date(2031, 1, 1), actor=None)
        shop = Entity(uscc="92330106MA2H0601XX", name="西湖面馆", kind="individual_business", status="active",
                      region_code="330106", agency_id=agency.id, industry_code="6220", address="杭州市西湖区文三路1号")
        db.add(shop)
        db.flush()
        today = dt.date.today()
        plan = service.create_plan(db, actor=users["wangjg"], data=PlanIn.model_validate({
            "title": "西湖面馆投诉核查", "kind": "complaint", "methods": ["on_site"], "item_codes": [ITEM],
            "target_usccs": [shop.uscc], "starts_on": today, "ends_on": today + dt.timedelta(days=30)}))
        service.decide(db, plan_id=plan.id, action="submit", actor=users["wangjg"])
        service.decide(db, plan_id=plan.id, action="approve", actor=leader)
        draws.run_draw(db, plan_id=plan.id, seed="投诉核查", actor=users["wangjg"])
        service.decide(db, plan_id=plan.id, action="begin", actor=leader)
        record = db.scalars(select(Inspection).where(Inspection.plan_id == plan.id)).one()
        visits.prepare(db, inspection_id=record.id, actor=users["wangjg"])
        visits.decide(db, inspection_id=record.id, action="approve_preparation", actor=leader)
        for member in record.officers:
            visits.show_credential(db, inspection_id=record.id, actor=users["wangjg"], officer_id=member.officer_id)
        visits.decide(db, inspection_id=record.id, action="start_visit", actor=users["wangjg"])
        return record.id


def test_a_visit_recorded_on_a_phone_survives_a_lost_connection(live_server: LiveServer, new_page: object) -> None:
    inspection_id = _on_site()
    page = new_page(375)  # type: ignore[operator]
    context = page.context  # type: ignore[attr-defined]
    sign_in(page, live_server, "wangjg")
    page.goto(live_server(f"/inspections/visits/{inspection_id}"))  # type: ignore[attr-defined]
    sync = page.locator("#sync")  # type: ignore[attr-defined]
    licence = page.locator(f'[data-point="{ITEM}-01"]')  # type: ignore[attr-defined]
    cold = page.locator(f'[data-point="{ITEM}-02"]')  # type: ignore[attr-defined]

    licence.get_by_text("符合", exact=True).click()
    sync.filter(has_text="所有作答已保存").wait_for()
    page.set_input_files(f'input[data-photo="{ITEM}-02"]',  # type: ignore[attr-defined]
                         files=[{"name": "冷柜温度.png", "mimeType": "image/png", "buffer": PNG}])
    cold.get_by_text("照片已保存").wait_for()

    context.set_offline(True)
    cold.get_by_text("不符合", exact=True).click()
    cold.locator("input[inputmode=decimal]").fill("12.5")
    cold.locator("textarea").fill("冷藏柜温度显示12.5℃，超过8℃")
    sync.filter(has_text="离线").wait_for()
    page.fill("#signer", "店主 周大海")  # type: ignore[attr-defined]
    page.locator("#sigpad").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    box = page.locator("#sigpad").bounding_box()  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + 20, box["y"] + 40)  # type: ignore[attr-defined]
    page.mouse.down()  # type: ignore[attr-defined]
    for x, y in ((80, 90), (140, 50), (200, 110), (260, 60)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)  # type: ignore[attr-defined]
    page.mouse.up()  # type: ignore[attr-defined]
    page.click("#sig-save")  # type: ignore[attr-defined]
    page.click("#finish")  # type: ignore[attr-defined]
    sync.filter(has_text="等待网络").wait_for()
    screenshot(page, "inspection-offline", full_page=False)
    with session_scope() as db:  # nothing of the offline part has arrived yet
        record = db.get(Inspection, inspection_id)
        assert record is not None and record.state == "on_site" and record.signature_sha256 is None

    context.set_offline(False)
    page.get_by_text("待送达反馈意见").first.wait_for(timeout=20_000)  # type: ignore[attr-defined]
    screenshot(page, "inspection-finished")
    with session_scope() as db:
        record = db.get(Inspection, inspection_id)
        assert record is not None and record.state == "feedback" and record.signed_by == "店主 周大海"
        answers = {a.point_code: (a.answer, a.value, a.note) for a in record.answers}
        assert answers[f"{ITEM}-01"] == ("yes", "", "")
        assert answers[f"{ITEM}-02"] == ("no", "12.5", "冷藏柜温度显示12.5℃，超过8℃")
        kinds = sorted(e.kind for e in db.scalars(select(InspectionEvidence).where(
            InspectionEvidence.inspection_id == inspection_id)))
        assert kinds == ["photo", "signature"]
        assert [f.point_code for f in record.findings] == [f"{ITEM}-02"]


def small_video(tmp_path: object) -> bytes:
    """Two seconds of test pattern, a key frame every second (Debian's ffmpeg, as the platform uses)."""
    import subprocess
    from pathlib import Path

    out = Path(str(tmp_path)) / "clip.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=2:size=160x120:rate=10", "-g", "10", "-pix_fmt", "yuv420p", str(out)],
                   check=True, timeout=60)
    return out.read_bytes()


def test_photos_and_videos_taken_offline_survive_closing_the_page(live_server: LiveServer, new_page: object,
                                                                   tmp_path: object) -> None:
    inspection_id = _on_site()
    page = new_page(375)  # type: ignore[operator]
    context = page.context  # type: ignore[attr-defined]
    sign_in(page, live_server, "wangjg")
    page.goto(live_server(f"/inspections/visits/{inspection_id}"))  # type: ignore[attr-defined]
    page.locator("#sync").filter(has_text="所有作答已保存").wait_for()  # type: ignore[attr-defined]
    context.set_offline(True)
    page.set_input_files(f'input[accept="image/*"][data-photo="{ITEM}-02"]',  # type: ignore[attr-defined]
                         files=[{"name": "冷柜.png", "mimeType": "image/png", "buffer": PNG}])
    page.set_input_files(f'input[accept="video/*"][data-photo="{ITEM}-02"]',  # type: ignore[attr-defined]
                         files=[{"name": "冷柜.mp4", "mimeType": "video/mp4", "buffer": small_video(tmp_path)}])
    page.locator("#sync").filter(has_text="2").wait_for()  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]  # IndexedDB writes settle
    page.close()  # type: ignore[attr-defined]
    with session_scope() as db:
        assert db.scalars(select(InspectionEvidence).where(InspectionEvidence.inspection_id == inspection_id)).all() \
            == []
    context.set_offline(False)
    again = context.new_page()
    again.goto(live_server(f"/inspections/visits/{inspection_id}"))
    again.locator("#sync").filter(has_text="所有作答已保存").wait_for(timeout=20_000)
    with session_scope() as db:
        kept = {e.kind: e for e in db.scalars(select(InspectionEvidence).where(
            InspectionEvidence.inspection_id == inspection_id))}
        assert set(kept) == {"photo", "video"} and kept["video"].point_code == f"{ITEM}-02"
    again.reload()
    frames = again.locator("#videos .frames img")
    frames.first.wait_for()
    assert frames.count() == 2
    assert again.locator("#videos .frames li span").all_inner_texts() == ["0:00", "0:01"]
    loaded = again.evaluate(
        "[...document.querySelectorAll('#videos .frames img')].map(i => i.complete && i.naturalWidth)")
    assert loaded == [160, 160]  # the key frames are real pictures, 160 px wide
    again.locator("#videos").screenshot(path=str(screenshot(again, "inspection-video-frames")))

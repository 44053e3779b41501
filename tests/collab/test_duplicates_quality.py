"""Duplicate suggestions on a labelled synthetic set: 40 incidents, each reported 1–3 times (the same
shop by name, or the same words near the same place, written a little differently), among 60 unrelated
complaints nearby. Precision and recall over pairs are printed and must stay high."""

from __future__ import annotations

import datetime as dt
import random
from itertools import combinations

import pytest
from sqlalchemy.orm import Session

from jianguan.collab import service
from jianguan.collab.schemas import ComplaintIn
from tests.inspections.conftest import World

PROBLEMS = ["卖的酸奶已经过期三天，店员拒绝退换", "后厨卫生脏乱有老鼠出没", "停车收费没有明码标价多收二十元",
            "鸡蛋标注的生产日期与实际不符", "办卡后关门跑路余额无法退还", "广告宣称全市最低价涉嫌虚假宣传",
            "电梯年检标志过期仍在使用", "药店销售处方药不查验处方"]
OPENINGS = ["", "市民反映：", "我在", "今天在", "12345 转办："]
ENDINGS = ["。", "！", "，请尽快处理。", "，希望查处。"]


def _text(rng: random.Random, problem: str) -> str:
    return f"{rng.choice(OPENINGS)}{problem}{rng.choice(ENDINGS)}"


def test_duplicate_suggestions_precision_and_recall(db: Session, world: World, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(service, "today_shanghai", lambda: dt.date(2026, 12, 7))
    rng = random.Random(2026)
    incident_of: dict[int, int] = {}
    for incident in range(40):
        shop = world.entities[incident] if incident % 2 == 0 else None
        lat, lng = 30.20 + rng.random() * 0.15, 120.05 + rng.random() * 0.2
        problem = PROBLEMS[incident % len(PROBLEMS)]
        for _ in range(rng.randint(1, 3)):
            made, _ = service.receive(db, channel="web", data=ComplaintIn(
                category="food_safety", content=_text(rng, problem), region_code="330106", anonymous=True,
                kind="tip", party_name=shop.name if shop else "", latitude=lat + rng.uniform(-0.0008, 0.0008),
                longitude=lng + rng.uniform(-0.0008, 0.0008)))
            incident_of[made.id] = incident
    for n in range(60):  # unrelated: other words, other places
        made, _ = service.receive(db, channel="web", data=ComplaintIn(
            category="food_safety", content=f"第{n}号：{rng.choice(PROBLEMS)[::-1]}。", region_code="330106",
            anonymous=True, kind="tip", latitude=30.20 + rng.random() * 0.15,
            longitude=120.05 + rng.random() * 0.2))
        incident_of[made.id] = 1000 + n
    from jianguan.collab.models import Complaint

    suggested: set[frozenset[int]] = set()
    for complaint_id in incident_of:
        complaint = db.get(Complaint, complaint_id)
        assert complaint is not None
        suggested |= {frozenset((complaint_id, other.id)) for other, _ in service.duplicates_of(db, complaint)}
    truth = {frozenset(pair) for pair in combinations(incident_of, 2)
             if incident_of[pair[0]] == incident_of[pair[1]]}
    hits = len(suggested & truth)
    precision = hits / len(suggested) if suggested else 1.0
    recall = hits / len(truth) if truth else 1.0
    with capsys.disabled():
        print(f"\nduplicate suggestions: {len(truth)} true pairs, {len(suggested)} suggested, "
              f"precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.9 and recall >= 0.9

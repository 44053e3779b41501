"""A video attached on site gets its key frames (ffmpeg) as a thumbnail timeline, each frame a JPEG in
the evidence store with its time in the video; readable by whoever may read the video."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import evidence
from jianguan.audit.models import EvidenceFrame
from jianguan.db import session_scope
from jianguan.inspections import visits
from tests.auth.conftest import token_for
from tests.inspections.conftest import World, make_world
from tests.inspections.test_visits import begun, on_site


def clip(tmp_path: Path, seconds: int = 3) -> bytes:
    out = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc=duration={seconds}:size=640x360:rate=10", "-g", "10", "-pix_fmt", "yuv420p", str(out)],
                   check=True, timeout=60)
    return out.read_bytes()


def test_key_frames_of_an_on_site_video(db: Session, world: World, tmp_path: Path) -> None:
    record = begun(db, world)[0]
    a, _ = on_site(db, world, record)
    video = visits.attach(db, inspection_id=record.id, stream=io.BytesIO(clip(tmp_path)), filename="后厨.mp4",
                          content_type="video/mp4", kind="video", point_code=record.answers[0].point_code, actor=a)
    frames = db.scalars(select(EvidenceFrame).where(EvidenceFrame.video_sha256 == video.sha256)
                        .order_by(EvidenceFrame.position)).all()
    assert [float(f.at_seconds) for f in frames] == [0.0, 1.0, 2.0]  # a key frame every second
    with evidence.get_storage().open(frames[1].sha256) as fh:
        assert fh.read(3) == b"\xff\xd8\xff"  # a JPEG
    again = evidence.key_frames(db, sha256=video.sha256, actor=a)
    assert [f.id for f in again] == [f.id for f in frames]  # made once
    photo = visits.attach(db, inspection_id=record.id, stream=io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
                          filename="x.png", content_type="image/png", kind="photo", actor=a)
    assert evidence.key_frames(db, sha256=photo.sha256, actor=a) == []  # no frames from a picture


@pytest.fixture
def video_on_record(fresh_db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, str, str]]:
    from jianguan.app import create_app

    with session_scope() as db:
        world = make_world(db)
        record = begun(db, world)[0]
        a, _ = on_site(db, world, record)
        sha = visits.attach(db, inspection_id=record.id, stream=io.BytesIO(clip(tmp_path, 2)), filename="v.mp4",
                            content_type="video/mp4", kind="video", actor=a).sha256
        username = a.username
    with TestClient(create_app()) as client:
        yield client, sha, username


def test_the_timeline_over_http(video_on_record: tuple[TestClient, str, str]) -> None:
    client, sha, username = video_on_record
    me = token_for(username)
    listed = client.get(f"/api/v1/evidence/{sha}/frames", headers=me).json()
    assert [(f["position"], f["at_seconds"]) for f in listed] == [(0, 0.0), (1, 1.0)]
    image = client.get(listed[1]["url"], headers=me)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert client.get(listed[1]["url"], headers=token_for("outsider")).status_code == 404
    assert client.get(f"/api/v1/evidence/{sha}/frames/9", headers=me).status_code == 404

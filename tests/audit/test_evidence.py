"""Evidence files: content-addressed, limited in size and type, never duplicated, hashes in the chain."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import evidence
from jianguan.audit import service as audit
from jianguan.audit.evidence import EvidenceDamaged, LocalEvidenceStorage
from jianguan.audit.models import AuditEntry, EvidenceFile
from jianguan.auth import service
from jianguan.auth.models import User
from jianguan.config import reset_settings
from jianguan.core.errors import Invalid, NotFound
from jianguan.officers import service as agencies

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 20
PDF = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 50
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 2000


@pytest.fixture
def store(tmp_path: Path) -> LocalEvidenceStorage:
    return LocalEvidenceStorage(tmp_path / "evidence")


def officer(db: Session, name: str, agency_code: str, region: str) -> User:
    agency = agencies.create_agency(db, code=agency_code, name=f"{region}市场监督管理局", region_code=region,
                                    actor=None)
    return service.create_user(db, username=name, display_name=name, password="Passw0rd-2026",
                               roles=["officer"], agency_id=agency.id, actor=None)


def put(db: Session, store: LocalEvidenceStorage, data: bytes, *, actor: User,
        content_type: str = "image/jpeg", filename: str = "现场照片.jpg", **kw: object) -> EvidenceFile:
    return evidence.store_evidence(db, stream=io.BytesIO(data), filename=filename, content_type=content_type,
                                   actor=actor, storage=store, **kw)  # type: ignore[arg-type]


def stored_files(store: LocalEvidenceStorage) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()]


def test_evidence_is_stored_under_its_sha256_and_enters_the_chain(
    db: Session, store: LocalEvidenceStorage
) -> None:
    user = officer(db, "zhao", "330106-SJ", "330106")
    taken = dt.datetime(2026, 3, 12, 2, 30, tzinfo=dt.UTC)
    row = put(db, store, JPEG, actor=user, taken_at=taken, latitude=30.2741, longitude=120.1551, note="后厨")
    import hashlib

    sha = hashlib.sha256(JPEG).hexdigest()
    assert (row.sha256, row.size, row.content_type) == (sha, len(JPEG), "image/jpeg")
    assert row.filename == "现场照片.jpg"
    assert (row.agency_id, row.region_code, row.uploaded_by_name) == (user.agency_id, "330106", "zhao")
    path = store.root / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == JPEG
    assert not os.access(path, os.W_OK) or os.geteuid() == 0  # stored read-only
    entry = db.get(AuditEntry, row.audit_entry_id)
    assert entry is not None and (entry.action, entry.object_id) == ("evidence.store", str(row.id))
    assert json.loads(entry.detail)["sha256"] == sha
    payload = {"sha256": sha, "size": len(JPEG), "content_type": "image/jpeg", "filename": "现场照片.jpg",
               "taken_at": taken, "latitude": 30.2741, "longitude": 120.1551, "duplicate": False,
               "note": "后厨"}
    assert entry.payload_hash == audit.digest(audit.canonical(payload))
    assert evidence.verify_evidence_file(sha, storage=store)


def test_same_content_twice_is_one_file_and_two_recorded_uploads(
    db: Session, store: LocalEvidenceStorage
) -> None:
    user = officer(db, "qian", "330106-SJ", "330106")
    first = put(db, store, PDF, actor=user, content_type="application/pdf", filename="询问笔录.pdf")
    second = put(db, store, PDF, actor=user, content_type="application/pdf", filename="笔录副本.pdf")
    assert first.sha256 == second.sha256 and first.id != second.id
    assert len(stored_files(store)) == 1
    details = [json.loads(e.detail) for e in db.scalars(
        select(AuditEntry).where(AuditEntry.action == "evidence.store").order_by(AuditEntry.id))]
    assert [d["duplicate"] for d in details] == [False, True]
    assert [d["filename"] for d in details] == ["询问笔录.pdf", "笔录副本.pdf"]


def test_an_exe_renamed_jpg_is_refused_and_nothing_is_kept(db: Session, store: LocalEvidenceStorage) -> None:
    user = officer(db, "sun", "330106-SJ", "330106")
    with pytest.raises(Invalid) as caught:
        put(db, store, EXE, actor=user, filename="photo.jpg")
    assert caught.value.field == "file"
    assert "image/jpeg" in str(caught.value)
    assert stored_files(store) == []
    assert db.scalar(select(EvidenceFile.id)) is None


@pytest.mark.parametrize(("content_type", "data"), [
    ("image/png", JPEG), ("application/pdf", EXE), ("video/mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64),
    ("text/plain", b"hello\x00world"), ("text/plain", EXE),
])
def test_magic_bytes_must_match_the_declared_type(
    db: Session, store: LocalEvidenceStorage, content_type: str, data: bytes
) -> None:
    user = officer(db, "liqiang", "330106-SJ", "330106")
    if content_type == "video/mp4":  # a real mp4 header passes
        assert put(db, store, data, actor=user, content_type=content_type).content_type == "video/mp4"
        return
    with pytest.raises(Invalid, match=content_type):
        put(db, store, data, actor=user, content_type=content_type)


def test_a_type_not_on_the_list_is_refused_naming_it(db: Session, store: LocalEvidenceStorage) -> None:
    user = officer(db, "zhou", "330106-SJ", "330106")
    with pytest.raises(Invalid) as caught:
        put(db, store, EXE, actor=user, content_type="application/x-msdownload", filename="a.exe")
    assert caught.value.field == "file"
    assert caught.value.params["type"] == "application/x-msdownload"
    assert "image/jpeg" in caught.value.params["allowed"]


def test_a_file_over_the_limit_is_refused_while_streaming_and_cleaned_up(
    db: Session, store: LocalEvidenceStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIANGUAN_EVIDENCE_MAX_BYTES", str(2 * 1024 * 1024))
    reset_settings()
    user = officer(db, "wuming", "330106-SJ", "330106")

    class Endless:
        """A stream that never ends: the limit, not the stream, must stop the upload."""

        read_total = 0

        def read(self, size: int = -1, /) -> bytes:
            self.read_total += 65536
            return b"a" * 65536

    stream = Endless()
    with pytest.raises(Invalid) as caught:
        evidence.store_evidence(db, stream=stream, filename="log.txt", content_type="text/plain", actor=user,
                                storage=store)
    assert caught.value.field == "file" and caught.value.params["limit"] == "2 MB"
    assert stream.read_total <= 2 * 1024 * 1024 + 2 * evidence.CHUNK
    assert stored_files(store) == []


def test_empty_file_and_bad_coordinates_name_their_field(db: Session, store: LocalEvidenceStorage) -> None:
    user = officer(db, "zheng", "330106-SJ", "330106")
    with pytest.raises(Invalid) as caught:
        put(db, store, b"", actor=user)
    assert caught.value.field == "file"
    with pytest.raises(Invalid) as caught:
        put(db, store, JPEG, actor=user, latitude=95.0)
    assert caught.value.field == "latitude"


def test_a_changed_file_is_detected_and_not_served(db: Session, store: LocalEvidenceStorage) -> None:
    user = officer(db, "wang", "330106-SJ", "330106")
    row = put(db, store, JPEG, actor=user)
    path = store.path(row.sha256)
    path.chmod(0o644)
    path.write_bytes(JPEG[:-1] + b"\x00")
    assert not evidence.verify_evidence_file(row.sha256, storage=store)
    assert list(evidence.verify_all_evidence(db, storage=store)) == [(row.sha256, False)]
    with pytest.raises(EvidenceDamaged):
        evidence.open_evidence(db, sha256=row.sha256, actor=user, storage=store)
    path.unlink()
    assert not evidence.verify_evidence_file(row.sha256, storage=store)


def test_reading_is_scoped_audited_and_rejects_crafted_names(
    db: Session, store: LocalEvidenceStorage
) -> None:
    owner = officer(db, "feng", "330106-SJ", "330106")
    other = officer(db, "chen", "330108-SJ", "330108")
    row = put(db, store, JPEG, actor=owner)
    found, handle = evidence.open_evidence(db, sha256=row.sha256, actor=owner, storage=store)
    with handle:
        assert handle.read() == JPEG
    assert found.id == row.id
    reads = db.scalars(select(AuditEntry).where(AuditEntry.action == "evidence.read")).all()
    assert [json.loads(r.detail)["sha256"] for r in reads] == [row.sha256]
    with pytest.raises(NotFound):
        evidence.open_evidence(db, sha256=row.sha256, actor=other, storage=store)
    for crafted in ("../../etc/passwd", row.sha256.upper(), row.sha256[:-1]):
        with pytest.raises(NotFound):
            evidence.open_evidence(db, sha256=crafted, actor=owner, storage=store)


def test_human_sizes() -> None:
    assert [evidence.human_size(n) for n in (1000, 2048, 50 * 1024 * 1024, 3 * 1024**3)] == [
        "1000 B", "2 KB", "50 MB", "3 GB"]


def test_a_filename_keeps_only_its_printable_last_part(db: Session, store: LocalEvidenceStorage) -> None:
    user = officer(db, "jiang", "330106-SJ", "330106")
    row = put(db, store, JPEG, actor=user, filename="..\\..\\现场\r\n照片.jpg")
    assert row.filename == "现场照片.jpg"

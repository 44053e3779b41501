"""The evidence store (证据库): content-addressed files whose SHA-256 enters the audit chain.

Files live behind the small ``EvidenceStorage`` protocol; ``LocalEvidenceStorage`` keeps them under
``JIANGUAN_HOME/evidence/ab/cd/<sha256>``. An object store can be added later by implementing the
same three methods. There is no delete: evidence is never deleted. Each upload is a row in
``evidence_files`` (who, when, where it was taken), so the same content uploaded twice is one file
and two rows, each in the chain.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.audit.models import EvidenceFile, EvidenceFrame
from jianguan.auth.scope import visible
from jianguan.config import get_settings
from jianguan.core.errors import DomainError, Invalid, NotFound
from jianguan.core.i18n import N_

if TYPE_CHECKING:
    from jianguan.auth.models import User

CHUNK = 1024 * 1024
SNIFF = 4096  # bytes read ahead to check the file's magic bytes
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
log = logging.getLogger(__name__)


class TooLarge(Exception):
    """The stream went past the size limit; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"evidence larger than {limit} bytes")
        self.limit = limit


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class EvidenceDamaged(DomainError):
    """The bytes on disk no longer match their name: someone changed or removed a stored file."""

    code = "evidence_damaged"
    http_status = 500
    default_message = N_("The stored evidence file is damaged or missing; its hash no longer matches.")


class EvidenceStorage(Protocol):
    """Where evidence bytes live. Content-addressed: a file's name is its SHA-256; no delete."""

    def put(self, stream: Readable, *, max_bytes: int | None = None) -> tuple[str, int]:
        """Store the stream; return (sha256, size). Raise ``TooLarge`` past ``max_bytes``."""
        ...

    def open(self, sha256: str) -> IO[bytes]:
        """The stored bytes; ``FileNotFoundError`` if absent."""
        ...

    def exists(self, sha256: str) -> bool: ...


def check_sha256(sha256: str) -> str:
    if not SHA256_RE.match(sha256):
        raise NotFound()
    return sha256


class LocalEvidenceStorage:
    """Files on the local disk (or an NFS mount shared by the web processes)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)  # also what keeps a crafted name from leaving the root
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: Readable, *, max_bytes: int | None = None) -> tuple[str, int]:
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{uuid.uuid4().hex}.part"
        hasher, size = hashlib.sha256(), 0
        try:
            with tmp.open("xb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(max_bytes)
                    hasher.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = hasher.hexdigest()
            target = self.path(sha256)
            if target.exists():
                tmp.unlink()  # the same content is already kept
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp, 0o444)  # evidence is never rewritten
                os.replace(tmp, target)  # atomic: a reader never sees half a file
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        return sha256, size

    def open(self, sha256: str) -> IO[bytes]:
        return self.path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def get_storage() -> EvidenceStorage:
    return LocalEvidenceStorage(get_settings().evidence_dir)


# --- types ------------------------------------------------------------------------------------------


def allowed_types() -> list[str]:
    return [t.strip().lower() for t in get_settings().evidence_types.split(",") if t.strip()]


def _is_mpeg_audio(head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _is_text(head: bytes) -> bool:
    # Plain text has no NUL bytes and no executable header (UTF-8 or GB18030, both fine).
    return b"\0" not in head and not head.startswith((b"MZ", b"\x7fELF"))


MAGIC = {
    "image/jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "image/png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/gif": lambda h: h.startswith((b"GIF87a", b"GIF89a")),
    "image/webp": lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP",
    "application/pdf": lambda h: h.startswith(b"%PDF-"),
    "video/mp4": lambda h: h[4:8] == b"ftyp",
    "video/quicktime": lambda h: h[4:8] in (b"ftyp", b"moov", b"mdat", b"wide"),
    "audio/mpeg": _is_mpeg_audio,
    "text/plain": _is_text,
    "text/csv": _is_text,
}


def normalise_type(content_type: str | None) -> str:
    """``Image/JPEG; charset=x`` → ``image/jpeg``; missing → application/octet-stream."""
    return (content_type or "application/octet-stream").split(";")[0].strip().lower()


def check_type(content_type: str, head: bytes) -> None:
    """The declared type must be allowed and, for the types we know, the bytes must be of that type."""
    allowed = allowed_types()
    if content_type not in allowed:
        raise Invalid("file", N_("File type {type} is not allowed. Allowed: {allowed}."),
                      type=content_type, allowed=", ".join(allowed))
    check = MAGIC.get(content_type)
    if check is not None and not check(head):
        raise Invalid("file", N_("The file's content is not of its declared type {type}."), type=content_type)


def human_size(n: int) -> str:
    """52428800 → '50 MB' (binary units, as the limit is usually set)."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.3g} {unit}"


class _Prefixed:
    """The sniffed head followed by the rest of the stream, read once."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        self._head, self._rest = head, rest

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                out, self._head = self._head, b""
                return out
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._rest.read(size)


# --- service ----------------------------------------------------------------------------------------


def store_evidence(
    db: Session,
    *,
    stream: Readable,
    filename: str,
    content_type: str | None,
    actor: User,
    taken_at: dt.datetime | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    note: str = "",
    storage: EvidenceStorage | None = None,
) -> EvidenceFile:
    """Check type and size while streaming, keep the file once, record this upload in the chain."""
    storage = storage or get_storage()
    settings = get_settings()
    content_type = normalise_type(content_type)
    head = b""
    while len(head) < SNIFF and (chunk := stream.read(SNIFF - len(head))):
        head += chunk
    if not head:
        raise Invalid("file", N_("The file is empty."))
    check_type(content_type, head)
    if latitude is not None and not -90 <= latitude <= 90:
        raise Invalid("latitude", N_("Latitude must be between -90 and 90."))
    if longitude is not None and not -180 <= longitude <= 180:
        raise Invalid("longitude", N_("Longitude must be between -180 and 180."))
    if taken_at is not None:
        if taken_at.tzinfo is None:
            raise Invalid("taken_at", N_("The time taken must include a time zone."))
        taken_at = taken_at.astimezone(dt.UTC)
    try:
        sha256, size = storage.put(_Prefixed(head, stream), max_bytes=settings.evidence_max_bytes)
    except TooLarge as exc:
        raise Invalid("file", N_("The file is larger than the limit of {limit}."),
                      limit=human_size(exc.limit)) from exc
    seen = db.scalar(select(EvidenceFile.id).where(EvidenceFile.sha256 == sha256).limit(1)) is not None
    name = "".join(ch for ch in Path((filename or "").replace("\\", "/")).name if ch.isprintable())[:255]
    row = EvidenceFile(
        sha256=sha256, size=size, content_type=content_type, filename=name,
        uploaded_by_id=actor.id, uploaded_by_name=actor.username,
        agency_id=actor.agency_id, region_code=actor.region_code,
        taken_at=taken_at, latitude=latitude, longitude=longitude, note=note,
    )
    db.add(row)
    db.flush()
    facts = {"sha256": sha256, "size": size, "content_type": content_type, "filename": name,
             "taken_at": taken_at, "latitude": latitude, "longitude": longitude, "duplicate": seen}
    entry = audit.record(db, actor=actor, action="evidence.store", object_type="evidence", object_id=row.id,
                         payload={**facts, "note": note}, detail=facts)
    row.audit_entry_id = entry.id
    db.flush()
    return row


def get_evidence(db: Session, *, sha256: str, actor: User) -> EvidenceFile:
    """The first upload of this content the actor may see (their own, or in their data scope)."""
    check_sha256(sha256)
    row = db.scalar(
        select(EvidenceFile)
        .where(EvidenceFile.sha256 == sha256,
               (EvidenceFile.uploaded_by_id == actor.id) | visible(EvidenceFile, actor))
        .order_by(EvidenceFile.id)
        .limit(1)
    )
    if row is None:
        raise NotFound()
    return row


def open_evidence(
    db: Session, *, sha256: str, actor: User, check: bool = True, storage: EvidenceStorage | None = None
) -> tuple[EvidenceFile, IO[bytes]]:
    """Open evidence for reading; the read is audited and, by default, the bytes re-hashed first."""
    storage = storage or get_storage()
    row = get_evidence(db, sha256=sha256, actor=actor)
    if check and not verify_evidence_file(sha256, storage=storage):
        log.error("evidence %s (upload #%s) is damaged or missing in the store", sha256, row.id)
        raise EvidenceDamaged()
    try:
        handle = storage.open(sha256)
    except FileNotFoundError as exc:
        log.error("evidence %s (upload #%s) is missing from the store", sha256, row.id)
        raise EvidenceDamaged() from exc
    audit.record(db, actor=actor, action="evidence.read", object_type="evidence", object_id=row.id,
                 payload={"sha256": sha256}, detail={"sha256": sha256, "filename": row.filename})
    return row, handle


def verify_evidence_file(sha256: str, *, storage: EvidenceStorage | None = None) -> bool:
    """Re-hash the stored bytes: True when present and unchanged."""
    storage = storage or get_storage()
    hasher = hashlib.sha256()
    try:
        with storage.open(sha256) as fh:
            while chunk := fh.read(CHUNK):
                hasher.update(chunk)
    except FileNotFoundError:
        return False
    return hasher.hexdigest() == sha256


def verify_all_evidence(
    db: Session, *, storage: EvidenceStorage | None = None, batch: int = 1000
) -> Iterator[tuple[str, bool]]:
    """Every distinct stored hash with whether its file is present and unchanged (streamed)."""
    storage = storage or get_storage()
    last = ""
    while True:
        hashes = db.scalars(
            select(EvidenceFile.sha256).where(EvidenceFile.sha256 > last).distinct()
            .order_by(EvidenceFile.sha256).limit(batch)
        ).all()
        if not hashes:
            return
        for sha256 in hashes:
            yield sha256, verify_evidence_file(sha256, storage=storage)
        last = hashes[-1]


# --- video key frames ---------------------------------------------------------------------------------

MAX_FRAMES = 12
FRAME_TIMEOUT_SECONDS = 120
_PTS = re.compile(r"Parsed_showinfo.*?pts_time:\s*([0-9.]+)")


def key_frames(db: Session, *, sha256: str, actor: User | None,
               storage: EvidenceStorage | None = None) -> list[EvidenceFrame]:
    """The video's key frames (I-frames, at most 12, at most 320 px wide) as JPEGs in the store, with their time
    in the video: the thumbnail timeline. Made once with Debian's ffmpeg (scripts/system-deps.sh);
    an empty list when the file is no video or ffmpeg cannot read it (the video itself stays evidence)."""
    import shutil
    import subprocess
    import tempfile
    from decimal import Decimal

    check_sha256(sha256)
    made = list(db.scalars(select(EvidenceFrame).where(EvidenceFrame.video_sha256 == sha256)
                           .order_by(EvidenceFrame.position)))
    if made:
        return made
    ffmpeg = shutil.which("ffmpeg")
    storage = storage or get_storage()
    if ffmpeg is None or not isinstance(storage, LocalEvidenceStorage) or not storage.exists(sha256):
        log.warning("no key frames for %s: ffmpeg or the stored file is missing", sha256)
        return []
    with tempfile.TemporaryDirectory(prefix="jg-frames-") as tmp:
        command = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "info", "-skip_frame", "nokey",
                   "-i", str(storage.path(sha256)), "-vf", "scale='min(320,iw)':-2,showinfo",
                   "-fps_mode", "passthrough", "-frames:v", str(MAX_FRAMES), "-q:v", "5", "-f", "image2",
                   f"{tmp}/frame-%03d.jpg"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=FRAME_TIMEOUT_SECONDS,
                                  check=False)
        except subprocess.TimeoutExpired:
            log.warning("key frames of %s took longer than %s s", sha256, FRAME_TIMEOUT_SECONDS)
            return []
        times = [Decimal(t).quantize(Decimal("0.001")) for t in _PTS.findall(done.stderr)]
        files = sorted(Path(tmp).glob("frame-*.jpg"))
        if done.returncode != 0 or not files:
            log.warning("ffmpeg found no key frames in %s: %s", sha256, done.stderr[-300:])
            return []
        for position, file in enumerate(files):
            with file.open("rb") as fh:
                frame_sha, _ = storage.put(fh)
            at = times[position] if position < len(times) else Decimal(0)
            made.append(EvidenceFrame(video_sha256=sha256, position=position, at_seconds=at, sha256=frame_sha))
    db.add_all(made)
    db.flush()
    audit.record(db, actor=actor, action="evidence.frames", object_type="evidence", object_id=None,
                 payload={"video": sha256, "frames": [f.sha256 for f in made]},
                 detail={"video": sha256, "frames": len(made)})
    return made


def open_frame(db: Session, *, sha256: str, position: int, actor: User) -> IO[bytes]:
    """A key frame, for whoever may read the video."""
    get_evidence(db, sha256=sha256, actor=actor)
    frame = db.scalar(select(EvidenceFrame).where(EvidenceFrame.video_sha256 == sha256,
                                                  EvidenceFrame.position == position))
    if frame is None:
        raise NotFound(N_("No such key frame."))
    return get_storage().open(frame.sha256)

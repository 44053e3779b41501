"""Digital signatures on PDFs (pyhanko), so any change to an issued document is detectable.

``jianguan init`` makes a demo certificate authority under ``JIANGUAN_HOME/pki``; each agency gets a
signing certificate from it the first time it signs. An operator with a real CA replaces ``ca.pem``
and puts ``agency-<code>.pem`` / ``agency-<code>.key`` issued by it beside (docs/documents.md).
Signatures carry the signing time from the server clock; no timestamp authority is reached (intranet).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jianguan.config import get_settings

CA_NAME = "jianguan 演示根证书（仅供演示与测试）"
CA_YEARS, SIGNER_YEARS = 20, 5


def pki_dir() -> Path:
    return get_settings().home / "pki"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=not ca, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def ensure_ca() -> Path:
    """The demo CA's certificate (made once; kept if present, e.g. replaced by a real one)."""
    folder = pki_dir()
    cert_path, key_path = folder / "ca.pem", folder / "ca.key"
    if cert_path.exists():
        return cert_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jianguan")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_private(key_path, _pem_key(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path


def _slug(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", code)


def agency_certificate(code: str, name: str) -> tuple[Path, Path]:
    """(certificate, key) files of an agency, issued by the CA the first time they are needed."""
    folder = pki_dir()
    cert_path, key_path = folder / f"agency-{_slug(code)}.pem", folder / f"agency-{_slug(code)}.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    ca_cert = x509.load_pem_x509_certificate(ensure_ca().read_bytes())
    ca_key_path = folder / "ca.key"
    if not ca_key_path.exists():
        raise RuntimeError(f"No signing certificate for agency {code} and no CA key to issue one ({ca_key_path}).")
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, code)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365 * SIGNER_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    key_path.unlink(missing_ok=True)
    _write_private(key_path, _pem_key(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def sign(pdf: bytes, *, agency_code: str, agency_name: str, reason: str, location: str) -> tuple[bytes, str]:
    """The signed PDF and the signer's name, signed by the agency's certificate."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    cert_path, key_path = agency_certificate(agency_code, agency_name)
    signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        str(key_path), str(cert_path), ca_chain_files=(str(ensure_ca()),))
    assert signer is not None, "the signing key or certificate could not be read"
    out = io.BytesIO()
    meta = signers.PdfSignatureMetadata(field_name="JianguanSignature", reason=reason, location=location)
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer, output=out)
    subject = signer.signing_cert.subject.native.get("common_name", agency_name)
    return out.getvalue(), str(subject)


@dataclass(frozen=True)
class SignatureCheck:
    signed: bool
    intact: bool  # the signed bytes are unchanged
    trusted: bool  # the certificate chains to our CA
    whole_file: bool  # nothing was added after signing
    signer: str = ""
    signed_at: dt.datetime | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.trusted and self.whole_file


def check(pdf: bytes) -> SignatureCheck:
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # not a PDF, or a broken one
        return SignatureCheck(False, False, False, False, problem=f"not a readable PDF: {exc}")
    if not signatures:
        return SignatureCheck(False, False, False, False, problem="no signature")
    der = ensure_ca().read_bytes()
    if pem.detect(der):
        der = pem.unarmor(der)[2]
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])
    try:
        status = validate_pdf_signature(signatures[-1], context)
    except Exception as exc:  # a malformed signature dictionary
        return SignatureCheck(True, False, False, False, problem=str(exc))
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    signer = str(status.signing_cert.subject.native.get("common_name", "")) if status.signing_cert else ""
    return SignatureCheck(True, bool(status.intact and status.valid), bool(status.trusted),
                          status.coverage == SignatureCoverageLevel.ENTIRE_FILE, signer, status.signer_reported_dt)

"""SendGrid's Signed Event Webhook: ECDSA P-256 / SHA-256 over the timestamp header followed by the raw body.

The signature is base64 DER in `X-Twilio-Email-Event-Webhook-Signature`; the timestamp (unix seconds) in
`X-Twilio-Email-Event-Webhook-Timestamp`. Verification runs over the exact bytes received: re-serialised JSON
would not verify.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


class SignatureError(ValueError):
    """The request is not provably from SendGrid (missing, malformed, forged or stale signature)."""


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The key as SendGrid shows it (base64 DER, no PEM armour) or a full PEM block."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode("".join(text.split()), validate=True))
    except (ValueError, binascii.Error) as err:
        raise ValueError(f"not an ECDSA public key: {err}") from err
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("the Signed Event Webhook key must be an ECDSA P-256 public key")
    return key


def verify(
    key: ec.EllipticCurvePublicKey,
    *,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    now: datetime,
    max_age_seconds: int,
) -> None:
    """Raise SignatureError unless `signature` signs `timestamp + body` and the timestamp is fresh."""
    if not signature or not timestamp:
        raise SignatureError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):  # 10^400 overflows a float
        raise SignatureError("timestamp header is not unix seconds")
    sent_at = int(timestamp)
    age = now.timestamp() - sent_at
    if age > max_age_seconds:
        raise SignatureError(f"stale signature: timestamp is {int(age)} s old (limit {max_age_seconds} s)")
    if age < -max_age_seconds:
        raise SignatureError("timestamp is in the future")
    try:
        der = base64.b64decode(signature, validate=True)
        key.verify(der, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature) as err:
        raise SignatureError("bad signature") from err


# ---- the signing side: for the fake SendGrid, tests and benchmarks ------------------------------------------


def generate_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A fresh P-256 key pair: the private key and the public key in SendGrid's format (base64 DER)."""
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(der).decode()


def sign(private: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    """The signature header value SendGrid would send for this timestamp and body."""
    return base64.b64encode(private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


def signed_headers(private: ec.EllipticCurvePrivateKey, body: bytes, now: datetime) -> dict[str, str]:
    """Headers for a signed webhook POST of `body` at `now`."""
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(private, timestamp, body),
        TIMESTAMP_HEADER: timestamp,
    }

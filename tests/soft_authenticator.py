"""A software WebAuthn authenticator for the HTTP tests (never the app's code).

It makes what a browser hands the app after ``navigator.credentials.create()``
and ``.get()``: "none" attestation, an ES256 key from ``cryptography``,
authenticator data with the flags and signature counter asked for, the
client data JSON with the challenge and origin, all as WebAuthn's JSON.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost:6543"
RP_ID = "localhost"

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One credential. ``counter_step`` 0: an authenticator that keeps no
    signature counter (passkeys that sync often do not)."""

    def __init__(self, *, origin: str = ORIGIN, rp_id: str = RP_ID, counter_step: int = 1) -> None:
        self.origin = origin
        self.rp_id = rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0
        self.counter_step = counter_step
        self.user_handle: str | None = None

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def _auth_data(self, flags: int, extra: bytes = b"", rp_id: str | None = None) -> bytes:
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.counter) + extra

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def create(self, options: dict, *, resident_key: bool = True, user_verified: bool = True,
               origin: str | None = None, rp_id: str | None = None) -> dict:
        """The JSON of ``navigator.credentials.create({publicKey: options})``."""
        self.user_handle = options["user"]["id"]
        flags = UP | AT | (UV if user_verified else 0)
        attested = (b"\x00" * 16 + struct.pack(">H", len(self.credential_id)) + self.credential_id
                    + self.cose_key())
        auth_data = self._auth_data(flags, attested, rp_id)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"], origin)),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": resident_key}},
        }

    def get(self, options: dict, *, user_verified: bool = True, origin: str | None = None,
            counter: int | None = None, with_handle: bool = True) -> dict:
        """The JSON of ``navigator.credentials.get({publicKey: options})``;
        ``counter`` forces the signature counter (a cloned key)."""
        self.counter = counter if counter is not None else self.counter + self.counter_step
        auth_data = self._auth_data(UP | (UV if user_verified else 0))
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": self.user_handle if with_handle else None,
            },
            "clientExtensionResults": {},
        }

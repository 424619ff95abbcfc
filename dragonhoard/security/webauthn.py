"""WebAuthn through py_webauthn: this module only adapts it.

Options go out as WebAuthn's JSON (binary values in base64url, which
static/webauthn.js turns into buffers); the browser's answers come back as
the JSON of ``PublicKeyCredential``. Anything py_webauthn refuses, or
cannot even read, is :class:`CeremonyFailed`: callers answer it 4xx.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..models.mfa import MAX_CREDENTIAL_ID_LENGTH

#: How long a browser may take (the challenge lives as long: security/challenges.py).
TIMEOUT_MS = 300_000
RP_NAME = "dragonhoard"


class CeremonyFailed(Exception):
    """The browser's answer was not accepted; the reason is for logs, never for the client."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origins: tuple[str, ...]
    name: str = RP_NAME


def relying_party(settings) -> RelyingParty:
    """``dragonhoard.webauthn.rp_id`` and ``.origin`` (settings.py checks them)."""
    return RelyingParty(settings.webauthn_rp_id, settings.webauthn_origins)


def user_handle(user_id: int) -> bytes:
    """The opaque user id an authenticator keeps with a passkey (no email, no name)."""
    return f"dragonhoard-user-{user_id}".encode("ascii")


def _as_dict(options) -> dict:
    return json.loads(options_to_json(options))


def registration_options(rp: RelyingParty, *, challenge: bytes, user_id: int, user_name: str,
                         exclude: list[str]) -> dict:
    """Options for ``navigator.credentials.create()``: a passkey where the
    authenticator can keep one, a security key otherwise."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle(user_id),
        user_name=user_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in exclude],
    )
    data = _as_dict(options)
    # Whether the authenticator made a discoverable credential (a passkey).
    data["extensions"] = {"credProps": True}
    return data


def authentication_options(rp: RelyingParty, *, challenge: bytes, allow: list[str] | None,
                           user_verification: bool) -> dict:
    """Options for ``navigator.credentials.get()``; ``allow`` None: any
    discoverable credential (a passkey login)."""
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in allow or ()],
        user_verification=(UserVerificationRequirement.REQUIRED if user_verification
                           else UserVerificationRequirement.PREFERRED),
    )
    return _as_dict(options)


def signed_challenge(credential: Any) -> bytes | None:
    """The challenge the browser signed (from ``clientDataJSON``), or None."""
    try:
        client_data = base64url_to_bytes(credential["response"]["clientDataJSON"])
        challenge = parse_client_data_json(client_data).challenge
    except Exception:  # any shape at all may come in: no answer, no challenge
        return None
    return challenge if isinstance(challenge, bytes) and challenge else None


def credential_id(credential: Any) -> str | None:
    """The credential's id in canonical base64url, or None when it is not one."""
    try:
        raw_id = credential["rawId"]
        if not isinstance(raw_id, str) or len(raw_id) > MAX_CREDENTIAL_ID_LENGTH:
            return None
        canonical = bytes_to_base64url(base64url_to_bytes(raw_id))
    except Exception:
        return None
    return canonical if canonical and canonical == raw_id else None


@dataclass(frozen=True)
class NewCredential:
    credential_id: str
    public_key: bytes
    sign_count: int
    passkey: bool


def verify_registration(rp: RelyingParty, credential: Any, challenge: bytes) -> NewCredential:
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            require_user_verification=False,
        )
    except Exception as exc:
        raise CeremonyFailed(f"registration: {exc.__class__.__name__}") from None
    new_id = bytes_to_base64url(verified.credential_id)
    if len(new_id) > MAX_CREDENTIAL_ID_LENGTH:
        raise CeremonyFailed("registration: credential id too long")
    return NewCredential(
        credential_id=new_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        passkey=_discoverable(credential, verified.credential_device_type),
    )


def _discoverable(credential: dict, device_type: CredentialDeviceType) -> bool:
    """credProps says so when the browser tells; a synced credential is a passkey anyway."""
    results = credential.get("clientExtensionResults")
    props = results.get("credProps") if isinstance(results, dict) else None
    if isinstance(props, dict) and isinstance(props.get("rk"), bool):
        return props["rk"]
    return device_type == CredentialDeviceType.MULTI_DEVICE


def verify_assertion(rp: RelyingParty, credential: Any, *, challenge: bytes, public_key: bytes,
                     sign_count: int, user_id: int, require_user_verification: bool) -> int:
    """The new signature counter, when the assertion is right.

    py_webauthn refuses a counter that did not grow where the authenticator
    keeps one (a cloned key); a ``userHandle``, when sent, must be the user's.
    """
    try:
        handle = credential["response"].get("userHandle")
        if handle not in (None, "") and base64url_to_bytes(handle) != user_handle(user_id):
            raise CeremonyFailed("assertion: another user's handle")
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=require_user_verification,
        )
    except CeremonyFailed:
        raise
    except Exception as exc:
        raise CeremonyFailed(f"assertion: {exc.__class__.__name__}") from None
    return verified.new_sign_count

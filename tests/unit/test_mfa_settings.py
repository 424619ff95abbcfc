"""The ini settings of two-factor login, checked at start (settings.py), and
the pure pieces: TOTP steps, recovery-code forms, challenge ids."""
from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import pytest

from dragonhoard.security import recovery_codes, totp, webauthn
from dragonhoard.settings import ConfigError, load_settings

from ..conftest import BASE_SETTINGS

BASE = dict(BASE_SETTINGS, **{"sqlalchemy.url": "sqlite://"})


def settings(**values):
    return load_settings(dict(BASE, **{"dragonhoard." + k.replace("__", "."): v for k, v in values.items()}))


def test_the_relying_party_defaults_to_localhost():
    loaded = settings()
    assert loaded.webauthn_rp_id == "localhost" and loaded.webauthn_origins == ("http://localhost:6543",)
    assert loaded.pending_cookie_name == "dh_pending"
    assert settings(cookie_secure="true").pending_cookie_name == "__Host-dh_pending"
    several = settings(webauthn__rp_id="hoard.example",
                       webauthn__origin="https://hoard.example https://www.hoard.example:8443/")
    assert several.webauthn_origins == ("https://hoard.example", "https://www.hoard.example:8443")


@pytest.mark.parametrize("rp_id, origin, message", [
    ("127.0.0.1", "http://127.0.0.1:6543", "must be a host name"),
    ("::1", "http://[::1]:6543", "must be a host name"),
    ("localhost", "http://127.0.0.1:6543", "must use https"),
    ("localhost", "https://127.0.0.1:6543", "is not on the relying party"),
    ("hoard.example", "http://hoard.example", "must use https"),
    ("hoard.example", "https://evilhoard.example", "is not on the relying party"),
    ("hoard.example", "https://hoard.example/login", r"must be scheme://host\[:port\]"),
    ("hoard.example", "ftp://hoard.example", r"must be scheme://host\[:port\]"),
    ("hoard.example", "https://hoard.example:99999", "is not a URL"),
])
def test_a_relying_party_no_browser_would_accept_refuses_to_start(rp_id, origin, message):
    with pytest.raises(ConfigError, match=message):
        settings(webauthn__rp_id=rp_id, webauthn__origin=origin)


def test_production_takes_https_only():
    production = {"environment": "production", "secret": "p" * 40}
    with pytest.raises(ConfigError, match="must use https"):
        settings(**production)
    assert settings(**production, webauthn__rp_id="hoard.example",
                    webauthn__origin="https://hoard.example").webauthn_rp_id == "hoard.example"


def test_totp_steps_and_codes():
    secret = pyotp.random_base32()
    when = datetime(2026, 12, 1, 12, 0, 15, tzinfo=UTC)
    step = totp.step_at(when)
    assert step == int(when.timestamp()) // 30
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(when), when) == step
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(when.timestamp() + 30), when) == step + 1
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(when.timestamp() + 60), when) is None
    assert totp.normalize(" 123 456 ") == "123456"
    assert totp.normalize("12345a") is None and totp.normalize("\u0661" * 6) is None


def test_recovery_codes_read_as_typed():
    codes = recovery_codes.generate()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert recovery_codes.normalize(code.upper().replace("-", " - ")) == code.replace("-", "")
    assert recovery_codes.normalize("abcde-abcd1") is None  # 1 is never in a code
    assert recovery_codes.normalize("short") is None


def test_an_assertion_names_its_challenge_or_nothing():
    assert webauthn.signed_challenge({}) is None
    assert webauthn.signed_challenge({"response": {"clientDataJSON": "!!"}}) is None
    assert webauthn.signed_challenge("not even a dict") is None
    assert webauthn.credential_id({"rawId": "AAAA"}) == "AAAA"
    assert webauthn.credential_id({"rawId": "AAA="}) is None  # not canonical base64url
    assert webauthn.credential_id({"rawId": 5}) is None

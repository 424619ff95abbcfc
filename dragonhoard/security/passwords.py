"""Passwords: argon2id through argon2-cffi, and zxcvbn for strength."""
from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

#: zxcvbn's cost grows with the length; a longer password is strong anyway.
STRENGTH_CHECK_LENGTH = 100


class Passwords:
    """Hash and verify with the ini file's argon2id parameters."""

    def __init__(self, settings) -> None:
        self.hasher = argon2.PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
            type=argon2.Type.ID,
        )
        self.min_length = settings.password_min_length
        self.max_length = settings.password_max_length
        self.min_score = settings.password_min_score
        # Verified when the email is unknown, so that the time a login takes
        # does not tell whether the account exists.
        self._dummy_hash = self.hasher.hash("dragonhoard: no such account")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a hash to check against."""
        try:
            return self.hasher.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

    def problem(self, password: str, user_inputs: list[str]) -> str | None:
        """Why ``password`` is refused for a new password, or None when it is fine."""
        if len(password) < self.min_length:
            return f"Use at least {self.min_length} characters."
        if len(password) > self.max_length:
            return f"Use at most {self.max_length} characters."
        result = zxcvbn(password[:STRENGTH_CHECK_LENGTH], user_inputs=[u for u in user_inputs if u])
        if result["score"] >= self.min_score:
            return None
        feedback = result.get("feedback") or {}
        parts = [feedback.get("warning") or "This password is too easy to guess."]
        parts.extend(feedback.get("suggestions") or [])
        return " ".join(p.strip() for p in parts if p and p.strip())

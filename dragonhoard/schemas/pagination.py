"""``page`` and ``per_page`` query parameters, and the list envelope."""
from __future__ import annotations

import re

from . import ValidationFailed

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")


def _positive(request, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationFailed({name: f"Must be a whole number from 1 to {MAX_PAGE}."},
                               "The query is not valid.")
    return int(raw)


def page_params(request) -> tuple[int, int]:
    """``(page, per_page)``: page from 1, per_page 20 by default, clamped to 100."""
    page = _positive(request, "page", 1)
    per_page = min(_positive(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    return page, per_page


def page_json(items: list, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total}

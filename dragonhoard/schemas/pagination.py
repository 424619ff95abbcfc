"""``page`` and ``per_page`` query parameters (the list envelope: ``shapes.page_answer``)."""
from __future__ import annotations

import re

from ..errors import Invalid

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")


def _positive(request, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise Invalid({name: f"Must be a whole number from 1 to {MAX_PAGE}."},
                               "The query is not valid.")
    return int(raw)


def page_params(request) -> tuple[int, int]:
    """``(page, per_page)``: page from 1, per_page 20 by default, clamped to 100."""
    page = _positive(request, "page", 1)
    per_page = min(_positive(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    return page, per_page

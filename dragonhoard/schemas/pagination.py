"""``page`` and ``per_page`` query parameters, and the list envelope."""
from __future__ import annotations

from . import ValidationFailed

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


def _positive(request, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationFailed({name: "Must be a whole number from 1."}, "The query is not valid.")
    return int(raw)


def page_params(request) -> tuple[int, int]:
    """``(page, per_page)``: page from 1, per_page 20 by default, clamped to 100."""
    page = _positive(request, "page", 1)
    per_page = min(_positive(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    return page, per_page


def page_json(items: list, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total}

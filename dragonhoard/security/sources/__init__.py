"""Identity sources: one small class per kind of credential (DESIGN section 5)."""
from __future__ import annotations

from .bearer import BearerSource
from .session import SessionSource

SOURCES = {"bearer": BearerSource, "session": SessionSource}

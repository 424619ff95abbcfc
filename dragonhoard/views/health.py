from __future__ import annotations

from pyramid.view import view_config
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..responses import json_response
from ..security.permissions import Permission
from .errors import RETRY_AFTER_SECONDS


@view_config(route_name="healthz", request_method="GET", permission=Permission.PUBLIC)
def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        request.dbsession.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        request.app.outage.failed(exc.__class__.__name__)
        return json_response(
            {"status": "unavailable"}, status=503, headers={"Retry-After": RETRY_AFTER_SECONDS}
        )
    return json_response({"status": "ok"})

"""The API describes itself: ``GET /api/openapi.json`` and ``GET /api/docs``.

The document is built once, when the application starts (:func:`includeme`),
from the same models that validate the bodies and shape the answers
(``dragonhoard/openapi.py``); every process of a deployment serves the same
bytes under the same ETag.
"""
from __future__ import annotations

import swagger_ui_bundle
from pyramid.response import Response
from pyramid.view import view_config

from ...application import of as app_of
from ...openapi import JSON, Document, document_for
from ...security.permissions import Permission
from ..pages import page_values

DOCUMENT_KEY = "dragonhoard.openapi"
#: Swagger UI's files, from the swagger-ui-bundle-v2 package (served by a static view).
SWAGGER_UI = str(swagger_ui_bundle.swagger_ui_path)


def includeme(config) -> None:
    """Build the document of this configuration's routes, at start-up."""
    config.registry[DOCUMENT_KEY] = document_for(app_of(config.registry).settings)


def document_of(request) -> Document:
    return request.registry[DOCUMENT_KEY]


@view_config(route_name="api.openapi", request_method="GET", permission=Permission.PUBLIC)
def openapi_document(request):
    """Public; 304 for a copy that is still current (If-None-Match)."""
    document = document_of(request)
    # Caches may keep it, asking again each time (the tween makes it
    # no-store when the request carried credentials).
    if document.etag.strip('"') in request.if_none_match:
        response = Response(status=304)
        del response.content_type
    else:
        response = Response(body=document.body, content_type=JSON, charset=None)
    response.headers.update({"ETag": document.etag, "Cache-Control": "no-cache"})
    return response


@view_config(route_name="api.docs", request_method="GET", renderer="docs.jinja2",
             permission=Permission.PUBLIC)
def docs_page(request):
    """Swagger UI drawing the document; its own script is static/docs.js."""
    return page_values(
        request,
        swagger_css=request.static_path(SWAGGER_UI + "/swagger-ui.css"),
        swagger_js=request.static_path(SWAGGER_UI + "/swagger-ui-bundle.js"),
    )

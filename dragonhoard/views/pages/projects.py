"""The project page: its treasures and members, drawn by the page's own
script from the JSON API, with the controls the viewer's role allows."""
from __future__ import annotations

from pyramid.view import view_config

from ...resources import NotFound
from ...resources.projects import load_project
from ...security.checks import may_view
from ...security.permissions import Permission
from .auth import render_form


@view_config(route_name="project.page", request_method="GET", permission=Permission.ACCOUNT)
def project_page(request):
    """A project the caller may not see is as missing as one that is not there."""
    project = load_project(request, request.matchdict["slug"])
    if project is None or not may_view(request, project):
        raise NotFound()
    identity = request.identity
    return render_form(request, "project.jinja2", project=project,
                       role=project.caller_role or "", admin=identity.admin_rights)

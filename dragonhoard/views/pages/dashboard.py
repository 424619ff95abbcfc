"""The dashboard: my treasures and projects, drawn by the page's own JavaScript
from the JSON API (session cookie + X-CSRF-Token), with a current-project
switcher kept in the signed session cookie."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...resources.projects import load_project
from ...security.checks import may_view
from ...security.permissions import Permission
from .auth import render_form

CURRENT_PROJECT = "current_project"


@view_config(route_name="dashboard", request_method="GET", permission=Permission.ACCOUNT)
def dashboard(request):
    slug = request.session.get(CURRENT_PROJECT)
    project = load_project(request, slug) if slug else None
    if project is not None and not may_view(request, project):
        project = None
    return render_form(request, "dashboard.jinja2", current_project=project)


@view_config(route_name="dashboard.project", request_method="POST", permission=Permission.ACCOUNT)
def choose_project(request):
    """Remember the project the dashboard shows (empty: my own treasures)."""
    slug = request.POST.get("project", "").strip()
    project = load_project(request, slug) if slug else None
    if project is not None and may_view(request, project):
        request.session[CURRENT_PROJECT] = project.slug
    else:
        request.session.pop(CURRENT_PROJECT, None)
    return HTTPSeeOther(location=request.route_path("dashboard"))

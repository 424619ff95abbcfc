"""The OAuth 2.1 endpoints (DESIGN section 15): oauthlib answers the
protocol; these views only hand it the request and send back its answer.

- ``/oauth/token``, ``/oauth/revoke``, ``/oauth/introspect`` and
  ``/oauth/device_authorization`` are called by apps, never by browsers:
  their ``Authorization`` header is the app's own (RFC 6749 section
  2.3.1), so the security policy does not read it (routes.py), and there
  is no CSRF token to check.
- ``/oauth/authorize`` and ``/device`` are pages of a logged-in user: the
  consent, in a login session only.
"""
from __future__ import annotations

import json

from oauthlib.oauth2 import FatalClientError, OAuth2Error
from oauthlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidRequestError
from pyramid.httpexceptions import HTTPFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..errors import Throttled
from ..models import OAuthApp, User
from ..security.oauth.csp import allow_form_redirect
from ..security.oauth.server import as_oauthlib, client_used_basic, endpoints_for, metadata
from ..security.permissions import SCOPES, Permission
from ..services import oauth as grants
from ..services.tokens import check_second_factor
from .pages.auth import render_form

#: RFC 6749 section 5.1: token answers are never cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_answer(request, headers: dict, body, status: int) -> Response:
    """oauthlib's answer as a response: JSON (or nothing), never cached; a
    client that tried HTTP Basic is challenged in Basic (RFC 6749 section 5.2)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    response = Response(body=(body or "").encode("utf-8"), status=status,
                        content_type="application/json", charset=None)
    if not body:
        del response.headers["Content-Type"]  # RFC 7009's 200: nothing at all
    for name, value in headers.items():
        if name.lower() != "content-type":
            response.headers[name] = value
    response.headers.update(NO_STORE)
    if status == 401:
        scheme = "Basic" if client_used_basic(request) else "Bearer"
        response.headers["WWW-Authenticate"] = f'{scheme} realm="dragonhoard"'
    return response


def malformed_body(request) -> Response:
    error = InvalidRequestError(description="The body must be UTF-8 form data.")
    return oauth_answer(request, {}, error.json, error.status_code)


def _call(request, endpoint_name: str, method_name: str) -> Response:
    request.oauth_endpoint = endpoint_name
    try:
        uri, method, body, headers = as_oauthlib(request)
    except UnicodeDecodeError:
        return malformed_body(request)
    found = endpoints_for(request)
    handler = getattr(getattr(found, endpoint_name), method_name)
    try:
        return oauth_answer(request, *handler(uri, method, body, headers))
    except grants.ReplayedAnswer as replayed:
        return oauth_answer(request, {}, replayed.body, 200)
    except OAuth2Error as error:
        return oauth_answer(request, error.headers, error.json, error.status_code)
    except ValueError:  # oauthlib's own reading of the form (bad %-encoding)
        return malformed_body(request)


CLIENT_VIEW = dict(request_method="POST", permission=NO_PERMISSION_REQUIRED, require_csrf=False)


@view_config(route_name="oauth.token", **CLIENT_VIEW)
def token(request):
    return _call(request, "token", "create_token_response")


@view_config(route_name="oauth.revoke", **CLIENT_VIEW)
def revoke(request):
    return _call(request, "revocation", "create_revocation_response")


@view_config(route_name="oauth.introspect", **CLIENT_VIEW)
def introspect(request):
    return _call(request, "introspection", "create_introspect_response")


@view_config(route_name="oauth.device_authorization", **CLIENT_VIEW)
def device_authorization(request):
    """RFC 8628 section 3.1: oauthlib draws the codes; storing them (hashed,
    with the app and the scopes it validated) is ours."""
    request.oauth_endpoint = "device"
    throttled = request.throttle.device_authorization(request)
    if not throttled.allowed:
        return oauth_answer(request, {"Retry-After": str(throttled.retry_after)},
                            {"error": "slow_down", "error_description":
                             "Too many device codes asked for from here; try again later."}, 429)
    try:
        uri, method, body, headers = as_oauthlib(request)
    except UnicodeDecodeError:
        return malformed_body(request)
    found = endpoints_for(request)
    try:
        headers, data, status = found.device.create_device_authorization_response(
            uri, method, body, headers)
    except OAuth2Error as error:
        return oauth_answer(request, error.headers, error.json, error.status_code)
    except ValueError:  # oauthlib's own reading of the form (bad %-encoding)
        return malformed_body(request)
    if status == 200 and isinstance(data, dict):
        user_code = grants.free_user_code(request.dbsession, data["user_code"])
        if user_code != data["user_code"]:
            data["user_code"] = user_code
            data["verification_uri_complete"] = found.device.verification_uri_complete(user_code)
        grants.save_device_code(request.dbsession, found.validator.client,
                                device_code=data["device_code"], user_code=data["user_code"],
                                scopes=data.get("scope", "").split())
    return oauth_answer(request, headers, data, status)


@view_config(route_name="oauth.metadata", request_method="GET", renderer="json",
             permission=Permission.PUBLIC)
def authorization_server_metadata(request):
    return metadata(request)


# -- consent: /oauth/authorize ----------------------------------------------

#: The authorization request's own parameters, carried through the consent form.
REQUEST_FIELDS = ("response_type", "client_id", "redirect_uri", "scope", "state",
                  "code_challenge", "code_challenge_method")


def consent_values(request, user: User, app: OAuthApp, requested: list[str]) -> dict:
    """What the consent form shows: the app, the scopes it asks for (with
    their sentences, all checked; those this user cannot give are named
    apart), and the user's projects, as the grant given before chose them."""
    grantable = grants.grantable_scopes(user, requested)
    previous = grants.grant_for(request.dbsession, user.id, app.id)
    projects = grants.member_projects(request.dbsession, user.id)
    if previous is not None and previous.is_restricted:
        linked = {link.project_id for link in previous.project_links}
        mode = "some" if linked else "none"
    else:
        linked, mode = set(), "all"
    return {
        "app": app,
        "scopes": [(scope, SCOPES[scope], True) for scope in grantable],
        "refused_scopes": [scope for scope in requested if scope not in grantable],
        "projects": [(project, project.id in linked) for project in projects],
        "project_mode": mode,
    }


def choice_from(post) -> grants.Consent:
    """The consent form's choice: checked scopes; projects all, some or none."""
    mode = post.get("projects", "all")
    if mode == "all":
        projects = None
    elif mode == "some":
        projects = post.getall("project")
    else:
        projects = []
    return grants.Consent(scopes=post.getall("granted_scope"), projects=projects)


def _validated(request, found):
    """oauthlib's check of the authorization request: the scopes asked for
    and the request, or the answer for a request that fails it."""
    try:
        uri, method, body, headers = as_oauthlib(request)
        scopes, info = found.authorization.validate_authorization_request(uri, method, body, headers)
    except FatalClientError as error:
        # No trustworthy redirect URI: say so here, never redirect.
        return None, render_form(request, "oauth_error.jinja2", error.status_code,
                                 message=error.description)
    except OAuth2Error as error:
        return None, HTTPFound(location=error.in_uri(error.redirect_uri))
    except ValueError:  # undecodable: bad UTF-8 or %-encoding (oauthlib's reading too)
        return None, render_form(request, "oauth_error.jinja2", 400,
                                 message="The request could not be read.")
    return (scopes, info["request"], (uri, method, body, headers)), None


def _issue_code(request, found, call, grant, scopes: list[str], user: User):
    uri, method, body, headers = call
    headers, _body, _status = found.authorization.create_authorization_response(
        uri, method, body, headers, scopes=scopes, credentials={"user": user, "grant": grant})
    return HTTPFound(location=headers["Location"])


@view_config(route_name="oauth.authorize", request_method="GET", permission=Permission.ACCOUNT)
def authorize(request):
    found = endpoints_for(request)
    validated, answer = _validated(request, found)
    if answer is not None:
        return answer
    requested, oauth, call = validated
    user = request.dbsession.get(User, request.identity.user_id)
    check_second_factor(user.mfa_enabled, request.settings.mfa_required)
    app = oauth.client
    grant = grants.remembered(request.dbsession, user, app, requested)
    if grant is not None:
        # Consented before to all of this: no second question.
        scopes = [scope for scope in grant.scope_list if scope in set(requested)]
        return _issue_code(request, found, call, grant, scopes, user)
    fields = {name: request.GET.get(name, "") for name in REQUEST_FIELDS}
    allow_form_redirect(request, oauth.redirect_uri)
    return render_form(request, "oauth_authorize.jinja2", fields=fields,
                       redirect_uri=oauth.redirect_uri,
                       action=request.route_path("oauth.authorize"),
                       **consent_values(request, user, app, requested))


@view_config(route_name="oauth.authorize", request_method="POST", permission=Permission.ACCOUNT)
def authorize_decision(request):
    found = endpoints_for(request)
    validated, answer = _validated(request, found)
    if answer is not None:
        return answer
    requested, oauth, call = validated
    user = request.dbsession.get(User, request.identity.user_id)
    if request.POST.get("decision") != "allow":
        denied = AccessDeniedError(state=oauth.state, request=oauth)
        return HTTPFound(location=denied.in_uri(oauth.redirect_uri))
    grant = grants.consent(request.dbsession, request.bookkeeping, user, oauth.client, requested,
                           choice_from(request.POST), mfa_required=request.settings.mfa_required)
    return _issue_code(request, found, call, grant, grant.scope_list, user)


# -- consent: /device (RFC 8628) ---------------------------------------------


@view_config(route_name="device", request_method="GET", permission=Permission.ACCOUNT)
def device_form(request):
    return render_form(request, "device.jinja2", stage="code",
                       user_code=request.GET.get("user_code", "")[:20])


@view_config(route_name="device", request_method="POST", permission=Permission.ACCOUNT)
def device_submit(request):
    # Every code sent counts (whatever its outcome): guessing stays hopeless.
    counted = request.throttle.device_code_entry(request, request.identity.user_id)
    if not counted.allowed:
        raise Throttled(counted.retry_after, "Too many codes tried; try again later.")
    typed = request.POST.get("user_code", "")[:20]
    device = grants.pending_device_code(request.dbsession, typed)
    if device is None:
        return render_form(request, "device.jinja2", 400, stage="code", user_code=typed,
                           error="That code is unknown or has expired. Check the code your device shows.")
    user = request.dbsession.get(User, request.identity.user_id)
    requested = device.scopes.split()
    decision = request.POST.get("decision")
    if decision is None:
        return render_form(request, "device.jinja2", stage="consent", user_code=typed,
                           action=request.route_path("device"),
                           fields={"user_code": typed},
                           **consent_values(request, user, device.app, requested))
    app = device.app
    device = grants.claim_device_code(request.dbsession, device)
    if device is None:  # decided or expired while the page was open: nothing written
        return render_form(request, "device.jinja2", 400, stage="code", user_code="",
                           error="That code is unknown or has expired. Check the code your device shows.")
    grant = None
    if decision == "allow":
        grant = grants.consent(request.dbsession, request.bookkeeping, user, app,
                               requested, choice_from(request.POST),
                               mfa_required=request.settings.mfa_required)
    grants.decide_device_code(request.dbsession, device, grant)
    request.session.flash(f"{app.name} is connected: return to your device."
                          if grant is not None else f"You denied {app.name}.")
    return HTTPSeeOther(location=request.route_path("device.done"))


@view_config(route_name="device.done", request_method="GET", permission=Permission.ACCOUNT)
def device_done(request):
    return render_form(request, "device.jinja2", stage="done")

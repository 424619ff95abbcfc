"""``/api/account/mfa``, ``/totp``, ``/webauthn``, ``/recovery-codes``: the
caller's second factors (DESIGN section 14). Session only; adding and
removing need sudo mode, and every write is a service of services/mfa.py."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from ...errors import Invalid
from ...models import User
from ...resources import NotFound, path_id
from ...schemas import parse_json
from ...schemas.mfa import CodeBody, WebAuthnRegistration
from ...schemas.shapes import mfa_status_answer, totp_enrolment_answer, webauthn_credential_answer
from ...security import challenges, webauthn
from ...security.permissions import Permission
from ...security.sudo import require_sudo
from ...services import mfa

NOT_ACCEPTED = "The security key's answer was not accepted; try again."


def me(request) -> User:
    return request.dbsession.get(User, request.identity.user_id)


def required_for(request, status: mfa.Status) -> bool:
    """Whether the account must have a second factor: the instance's rule
    (``dragonhoard.mfa.required = all``) or a project of theirs."""
    return request.settings.mfa_required == "all" or bool(status.projects_requiring)


@view_config(route_name="api.account.mfa", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT_MFA)
def mfa_status(request):
    status = mfa.status(request.dbsession, request.identity.user_id)
    return mfa_status_answer(status, required=required_for(request, status))


# -- TOTP ---------------------------------------------------------------------

@view_config(route_name="api.account.totp", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT_MFA)
def totp_start(request):
    require_sudo(request)
    enrolment = mfa.start_totp(request.dbsession, me(request), app_secret=request.settings.secret)
    request.response.status = 201
    return totp_enrolment_answer(enrolment)


@view_config(route_name="api.account.totp.confirm", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT_MFA)
def totp_confirm(request):
    body = parse_json(request, CodeBody)
    codes = mfa.confirm_totp(request.dbsession, request.bookkeeping, request.passwords, me(request),
                             body.code, app_secret=request.settings.secret)
    answer = {"totp": True}
    if codes is not None:
        answer["recovery_codes"] = codes
    return answer


@view_config(route_name="api.account.totp", request_method="DELETE",
             permission=Permission.ACCOUNT_MFA)
def totp_delete(request):
    require_sudo(request)
    if not mfa.disable_totp(request.dbsession, request.bookkeeping, request.passwords, me(request)):
        raise NotFound()
    return HTTPNoContent()


# -- WebAuthn --------------------------------------------------------------------

@view_config(route_name="api.account.webauthn.options", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT_MFA)
def webauthn_options(request):
    """Registration options; the challenge belongs to this session and user."""
    require_sudo(request)
    identity = request.identity
    exclude = [row.credential_id for row in mfa.credentials_of(request.dbsession, identity.user_id)]
    challenge = challenges.issue(request, "register", user_id=identity.user_id,
                                 session_id=identity.session.id)
    return webauthn.registration_options(webauthn.relying_party(request.settings),
                                         challenge=challenge, user_id=identity.user_id,
                                         user_name=identity.email, exclude=exclude)


@view_config(route_name="api.account.webauthn", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT_MFA)
def webauthn_add(request):
    """The browser's answer to the options: verified, then kept. Its
    challenge must be this session's, live and unused."""
    body = parse_json(request, WebAuthnRegistration)
    identity = request.identity
    issued = challenges.consume(request, body.credential, "register")
    if (issued is None or issued.user_id != identity.user_id
            or issued.session_id != identity.session.id):
        raise Invalid({"credential": NOT_ACCEPTED})
    try:
        new = webauthn.verify_registration(webauthn.relying_party(request.settings),
                                           body.credential, issued.challenge)
    except webauthn.CeremonyFailed:
        raise Invalid({"credential": NOT_ACCEPTED}) from None
    row, codes = mfa.add_webauthn(request.dbsession, request.bookkeeping, request.passwords,
                                  me(request), new, body.name)
    request.response.status = 201
    answer = webauthn_credential_answer(row)
    if codes is not None:
        # The account's first factor: its recovery codes, shown this once.
        answer["recovery_codes"] = codes
    return answer


@view_config(route_name="api.account.webauthn.item", request_method="DELETE",
             permission=Permission.ACCOUNT_MFA)
def webauthn_delete(request):
    require_sudo(request)
    if not mfa.remove_webauthn(request.dbsession, request.bookkeeping, request.passwords,
                               me(request), path_id(request)):
        raise NotFound()
    return HTTPNoContent()


# -- recovery codes ------------------------------------------------------------------

@view_config(route_name="api.account.recovery_codes", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT_MFA)
def recovery_codes(request):
    require_sudo(request)
    codes = mfa.regenerate_recovery_codes(request.dbsession, request.bookkeeping, request.passwords,
                                          me(request))
    request.response.status = 201
    return {"codes": codes}

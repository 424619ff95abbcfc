"""The one function that computes principals, and the ACLs built from the table."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pyramid.authorization import ACLHelper, Authenticated, Everyone

from dragonhoard.security.identity import Identity, SessionCredential, TokenCredential
from dragonhoard.security.permissions import SCOPES, Permission, build_acl
from dragonhoard.security.principals import principals_for

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class Context:
    def __init__(self, project_id=None, caller_role=None, in_token_reach=True):
        self.project_id = project_id
        self.caller_role = caller_role
        self.in_token_reach = in_token_reach


def identity(*, is_admin=False, scopes=None, restricted=False):
    token = None
    session = None
    if scopes is None:
        session = SessionCredential(id=1, created_at=NOW, expires_at=NOW, sudo_until=None)
    else:
        token = TokenCredential(id=9, name="t", scopes=frozenset(scopes), is_restricted=restricted,
                                expires_at=None)
    return Identity(user_id=7, username="smaug", email="s@example.com", is_admin=is_admin,
                    created_at=NOW, token=token, session=session)


def test_anonymous_is_everyone_only():
    assert principals_for(None, Context(project_id=3, caller_role="owner")) == [Everyone]


def test_a_session_holds_every_scope_but_admin():
    principals = principals_for(identity(), Context())
    assert Everyone in principals and Authenticated in principals and "user:7" in principals
    assert "scope:treasure:read" in principals and "scope:admin" not in principals
    assert "role:admin" not in principals


def test_an_admins_session_is_admin():
    principals = principals_for(identity(is_admin=True), Context())
    assert "scope:admin" in principals and "role:admin" in principals


def test_an_admins_token_is_admin_only_with_the_admin_scope():
    assert "role:admin" not in principals_for(identity(is_admin=True, scopes=["treasure:read"]), Context())
    assert "role:admin" in principals_for(identity(is_admin=True, scopes=["admin"]), Context())
    assert "role:admin" not in principals_for(identity(is_admin=False, scopes=["admin"]), Context())


def test_token_scopes_only():
    principals = principals_for(identity(scopes=["project:read"]), Context())
    assert [p for p in principals if p.startswith("scope:")] == ["scope:project:read"]


def test_the_project_role_of_the_context():
    principals = principals_for(identity(), Context(project_id=3, caller_role="editor"))
    assert "project:3:editor" in principals
    assert not any(p.startswith("project:3:") and p != "project:3:editor" for p in principals)
    assert not any(p.startswith("project:") for p in principals_for(identity(), Context(project_id=3)))


def test_outside_a_restricted_tokens_projects_only_anyone_rights_are_left():
    who = identity(is_admin=True, scopes=["admin", "treasure:read"], restricted=True)
    principals = principals_for(who, Context(project_id=3, caller_role="owner", in_token_reach=False))
    assert "user:7" not in principals and "role:admin" not in principals
    assert not any(p.startswith("project:") for p in principals)
    inside = principals_for(who, Context(project_id=3, caller_role="owner", in_token_reach=True))
    assert "project:3:owner" in inside and "role:admin" in inside


def test_acls_put_everyone_first_and_end_with_deny_all():
    acl = build_acl((Permission.TREASURE_EDIT, Permission.TREASURE_VIEW), owner_id=5, project_id=3,
                    published=True)
    assert acl[0][1] == Everyone and acl[0][2] == Permission.TREASURE_VIEW
    assert acl[-1][0] == "Deny"
    assert ("Allow", "project:3:viewer", Permission.TREASURE_VIEW) in acl
    assert ("Allow", "project:3:viewer", Permission.TREASURE_EDIT) not in acl
    assert ("Allow", "project:3:owner", Permission.TREASURE_EDIT) in acl
    unpublished = build_acl((Permission.TREASURE_VIEW,), owner_id=5, project_id=3)
    assert all(ace[1] != Everyone for ace in unpublished[:-1])


class Resource:
    def __init__(self, acl):
        self.__acl__ = acl


@pytest.mark.parametrize("facts", [
    {"owner_id": 5, "project_id": 3, "published": True},
    {"owner_id": 5, "project_id": 3, "published": False},
    {"owner_id": None, "project_id": None, "published": False},
])
def test_no_scope_principal_appears_in_any_acl(facts):
    """A scope principal in an ACL would grant on its own (DESIGN section 13):
    no ACL names one, so every scope there is grants nothing beyond what a
    caller without any may do."""
    acl = build_acl(tuple(Permission), **facts)
    assert not any(str(ace[1]).startswith("scope:") for ace in acl)
    every_scope = [f"scope:{scope}" for scope in SCOPES]
    helper = ACLHelper()
    for permission in Permission:
        bare = bool(helper.permits(Resource(acl), [Everyone, Authenticated], permission))
        scoped = bool(helper.permits(Resource(acl), [Everyone, Authenticated, *every_scope],
                                     permission))
        assert scoped == bare, permission

"""The API document (``GET /api/openapi.json``): valid OpenAPI 3.1, every
``/api/`` route and every endpoint OAuth apps call and nothing else, built
from the models the app uses, the same bytes in every process, cached with
an ETag; and ``GET /api/docs``, the page that draws it, with the pages'
security headers."""
from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import subprocess
import sys
from typing import Annotated
from urllib.parse import urlsplit

import jsonschema
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import OpenAPIV31SpecValidator
from pydantic import AfterValidator, ValidationError
from pydantic.json_schema import models_json_schema
from pyramid.security import NO_PERMISSION_REQUIRED

from dragonhoard import openapi
from dragonhoard.openapi import OPERATIONS, build_document, openapi_path
from dragonhoard.request import OAUTH_APP_PATHS
from dragonhoard.schemas import Body, refuse_nul
from dragonhoard.schemas import apps as ap
from dragonhoard.schemas import tokens as tk
from dragonhoard.schemas import treasures as tr
from dragonhoard.schemas import users as us
from dragonhoard.schemas.shapes import Treasure
from dragonhoard.security.permissions import RULES, SCOPES, Permission
from dragonhoard.views.api.docs import DOCUMENT_KEY

from .helpers import bearer, login
from .oauth.flows import basic, tokens_for

SESSIONS_ON = ("bearer", "session")
API_ONLY = ("bearer",)
#: Views whose registered permission is not the operation's: the view checks
#: the operation's permission itself, after a step that comes first.
VIEW_PERMISSIONS = {
    # Step 0 of DESIGN section 5: an email change through a token is told it
    # needs a session before the role and scope checks (views/api/users.py).
    "editUser": Permission.AUTHENTICATED,
}


def document(auth_sources=SESSIONS_ON) -> dict:
    return build_document(auth_sources, "dh_session")


def operations_of(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


def view_operations(app) -> dict[tuple[str, str], object]:
    """(method, OpenAPI path) -> the view's permission, for every ``/api/``
    view and every endpoint OAuth apps call that the app registered (as
    views/errors.allowed_methods walks them). Pages are not in the document;
    the one apps send users to, ``/oauth/authorize``, is in the ``oauth2``
    scheme (see the OAuth tests below)."""
    introspector = app.registry.introspector
    patterns = {item["introspectable"]["name"]: item["introspectable"]["pattern"]
                for item in introspector.get_category("routes")}
    found = {}
    for item in introspector.get_category("views"):
        view = item["introspectable"]
        pattern = patterns.get(view["route_name"])
        if pattern is None or view["exception_only"] or not (
                pattern.startswith("/api/") or pattern == "/healthz" or pattern in OAUTH_APP_PATHS):
            continue
        methods = view["request_methods"]
        methods = (methods,) if isinstance(methods, str) else methods
        assert methods, f"the view of {pattern} answers every method: name them"
        permissions = [rel["value"] for rel in item["related"] if rel.category_name == "permissions"]
        for method in methods:
            found[(method, openapi_path(pattern))] = permissions[0] if permissions else None
    return found


# -- valid, complete, and of this configuration -----------------------------------


@pytest.mark.parametrize("sources", [SESSIONS_ON, API_ONLY], ids=["sessions", "api-only"])
def test_the_document_is_valid_openapi_3_1(sources):
    doc = document(sources)
    OpenAPIV31SpecValidator(doc).validate()
    assert doc["openapi"] == "3.1.0"


@pytest.mark.parametrize("sources", [SESSIONS_ON, API_ONLY], ids=["sessions", "api-only"])
def test_every_api_route_and_method_is_described_and_nothing_else(app_factory, sources):
    app = app_factory(dragonhoard__auth_sources=" ".join(sources))
    served = app.registry[DOCUMENT_KEY]
    doc = orjson.loads(served.body)
    views = view_operations(app)
    assert operations_of(doc) - set(views) == set(), "documented, but no view answers it"
    assert set(views) - operations_of(doc) == set(), "answered, but not documented"
    assert doc == document(sources)
    if sources == API_ONLY:
        # No login sessions: no login, and no authorization server (its consent needs one).
        assert not {"session", "oauth2", "oauthClient"} & set(doc["components"]["securitySchemes"])
        assert "/api/login" not in doc["paths"]
        assert not [path for path in doc["paths"] if "oauth" in path or "apps" in path]


def test_each_operation_names_the_permission_its_view_checks(app_factory):
    views = view_operations(app_factory())
    for op in OPERATIONS:
        # The endpoints apps call check the app's credentials (oauthlib), not a user's permission.
        expected = NO_PERMISSION_REQUIRED if op.client else VIEW_PERMISSIONS.get(op.operation_id,
                                                                                 op.permission)
        assert views[(op.method, openapi_path(op.route))] == expected, op.operation_id


def test_operation_ids_are_unique():
    ids = [op.operation_id for op in OPERATIONS]
    assert len(ids) == len(set(ids))


# -- security: schemes, scopes from the permission table ---------------------------


def test_security_requirements_follow_the_permission_table():
    doc = document()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer" and "dhp_" in schemes["bearer"]["description"]
    assert "checksum" in schemes["bearer"]["description"]
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie", "name": "dh_session"}
    assert "__Host-dh_session" in schemes["session"]["description"]
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token"
    for op in OPERATIONS:
        security = doc["paths"][openapi_path(op.route)][op.method.lower()]["security"]
        rule = RULES[op.permission]
        bearer_scopes = [req["bearer"] for req in security if "bearer" in req]
        if op.client:
            assert security == [{"oauthClient": []}, {}], op.operation_id
            continue
        if not op.credentials:
            assert security == [], op.operation_id
            continue
        # An OAuth access token works wherever a personal one does, with the same scopes.
        assert [req["oauth2"] for req in security if "oauth2" in req] == bearer_scopes, op.operation_id
        if rule.session_only:
            assert bearer_scopes == [], f"{op.operation_id} is for sessions only"
        elif rule.scope:
            assert bearer_scopes == [[rule.scope]], op.operation_id
        sessions = [req for req in security if "session" in req]
        assert sessions == [{"session": [], "csrf": []} if op.method != "GET" else {"session": []}], \
            op.operation_id
        assert ({} in security) == any(g.startswith("everyone") for g in rule.grantees)


def test_a_scoped_operation_names_its_scope_in_its_description():
    doc = document()
    create = doc["paths"]["/api/treasures"]["post"]
    assert create["security"][:2] == [{"bearer": ["treasure:create"]}, {"oauth2": ["treasure:create"]}]
    assert "`treasure:create`" in create["description"]
    tokens = doc["paths"]["/api/tokens"]["post"]
    assert tokens["security"] == [{"session": [], "csrf": []}]
    assert "session_required" in tokens["description"]


# -- answers, errors and headers ---------------------------------------------------


def test_errors_share_one_schema_and_carry_their_headers():
    doc = document()
    responses = doc["components"]["responses"]
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"] and set(error["properties"]) == {
        "error", "message", "fields"}
    for response in responses.values():
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}
    assert responses["Unauthorized"]["headers"]["WWW-Authenticate"]["required"] is True
    assert responses["Throttled"]["headers"]["Retry-After"]["required"] is True
    assert responses["Unavailable"]["headers"]["Retry-After"]["required"] is True
    assert responses["MethodNotAllowed"]["headers"]["Allow"]["required"] is True
    assert "Dragonhoard-Token-Expires" in responses["Forbidden"]["headers"]
    # A 401 refusing the token has no such header (DESIGN section 3).
    assert "Dragonhoard-Token-Expires" not in responses["Unauthorized"]["headers"]


def test_every_operation_lists_the_answers_it_can_give():
    doc = document()
    item = doc["paths"]["/api/treasures/{id}"]
    assert set(item["patch"]["responses"]) == {"200", "400", "401", "403", "404", "413", "415",
                                               "422", "503"}
    assert set(item["delete"]["responses"]) == {"204", "400", "401", "403", "404", "503"}
    assert set(doc["paths"]["/api/login"]["post"]["responses"]) >= {"200", "401", "403", "429"}
    member = doc["paths"]["/api/projects/{slug}/members/{user_id}"]["put"]["responses"]
    assert {"200", "201", "404", "409"} <= set(member)


def test_parameters_carry_the_routes_patterns_and_the_paging_bounds():
    doc = document()
    get = doc["paths"]["/api/projects/{slug}/members/{user_id}"]["put"]
    params = {p["name"]: p for p in get["parameters"]}
    assert params["user_id"]["schema"] == {"type": "string", "pattern": "^[0-9]+$"}
    assert params["slug"]["schema"]["pattern"] == "^[a-z0-9][a-z0-9-]{1,39}$"
    listing = {p["name"]: p for p in doc["paths"]["/api/treasures"]["get"]["parameters"]}
    assert listing["page"]["schema"]["minimum"] == 1
    assert listing["per_page"]["schema"]["default"] == 20
    assert listing["owner"]["schema"]["type"] == "integer"


def test_shapes_are_generated_from_the_models():
    doc = document()
    schemas = doc["components"]["schemas"]
    # The answer's fields, in the model's order, nothing hand-written.
    assert list(schemas["Treasure"]["properties"]) == list(Treasure.model_fields)
    assert schemas["Treasure"]["additionalProperties"] is False
    create = schemas["TreasureCreate"]
    assert create["required"] == ["name"] and create["additionalProperties"] is False
    assert create["properties"]["value"] == {"default": 0, "maximum": tr.MAX_VALUE, "minimum": 0,
                                             "type": "integer"}
    # A "may be left out, never null" field has no default of null.
    assert "default" not in schemas["TreasureEdit"]["properties"]["name"]
    assert schemas["TreasureCreate"]["properties"]["project"]["anyOf"][1] == {"type": "null"}


#: What a JSON Schema (2020-12, with OpenAPI's additions) may say; pydantic
#: has emitted its own keys (ge, le) where it could not place a bound.
SCHEMA_KEYWORDS = {
    "$ref", "type", "properties", "required", "additionalProperties", "items", "anyOf", "allOf",
    "oneOf", "not", "enum", "const", "pattern", "format", "minLength", "maxLength", "minimum",
    "maximum", "minItems", "maxItems", "uniqueItems", "default", "description", "title",
    "examples", "example",
}


def _schema_keys(schema, path="schema"):
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties":
                for name, prop in value.items():
                    yield from _schema_keys(prop, f"{path}.{name}")
            else:
                yield key, path
                if key in ("items", "not", "additionalProperties"):
                    yield from _schema_keys(value, f"{path}.{key}")
                elif key in ("anyOf", "allOf", "oneOf"):
                    for option in value:
                        yield from _schema_keys(option, f"{path}.{key}")


def test_schemas_use_only_json_schema_keywords():
    for name, schema in document()["components"]["schemas"].items():
        unknown = [(key, path) for key, path in _schema_keys(schema, name) if key not in SCHEMA_KEYWORDS]
        assert unknown == []


# -- the validators' rules, stated once and equal to the validators ---------------


def _accepts(check, value: str) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True


@settings(max_examples=300, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(" \t\n\x00\x1c\x85\u3000\ufeff"),
               max_size=8))
def test_the_stated_patterns_accept_what_the_validators_accept(value):
    assert bool(re.search(openapi.TWO_INKED, value)) == _accepts(
        lambda v: tr.check_treasure_name(refuse_nul(v)), value)
    assert bool(re.search(openapi.NOT_BLANK, value)) == _accepts(
        lambda v: tr.check_text(refuse_nul(v)), value)
    assert bool(re.search(openapi.NOT_BLANK, value)) == _accepts(tk.check_name, value)
    assert bool(re.search(openapi.NO_NUL, value)) == _accepts(refuse_nul, value)


@pytest.mark.parametrize("domain", ["example.com", "dragonhoard.example", "b.co.uk",
                                    *(f"b.{name}" for name in openapi.SPECIAL_USE_DOMAIN_NAMES)])
def test_the_stated_reserved_domains_are_those_the_email_check_refuses(domain):
    refused = re.search(openapi.SPECIAL_USE_DOMAIN, f"smaug@{domain}") is not None
    assert refused == (not _accepts(us.check_email, f"smaug@{domain}"))


def test_the_spaces_are_every_space():
    assert openapi._SPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def test_a_validator_the_document_does_not_know_stops_the_build():
    class Odd(Body):
        name: Annotated[str, AfterValidator(lambda value: value)]

    with pytest.raises(LookupError, match="VALIDATOR_SCHEMAS"):
        models_json_schema([(Odd, "validation")], schema_generator=openapi.DocumentSchema)


def test_body_examples_are_valid_for_the_document_and_the_models():
    doc = document()
    registry_doc = {"components": doc["components"]}
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if not body:
                continue
            [content] = body["content"].values()  # JSON, or form data (OAuth)
            assert "example" in content, f"{method.upper()} {path} has no example"
            schema = {**content["schema"], "components": registry_doc["components"]}
            jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
                content["example"])


def test_a_whole_number_written_as_a_float_is_that_integer():
    # JSON Schema (the document's language) says 4.0 is the integer 4.
    assert tr.TreasureCreate.model_validate_json('{"name": "ab", "value": 4.0}').value == 4
    for refused in ('{"name": "ab", "value": 4.5}', '{"name": "ab", "value": "4"}',
                    '{"name": "ab", "cool_factor": true}'):
        with pytest.raises(ValidationError):
            tr.TreasureCreate.model_validate_json(refused)


# -- OAuth: the scheme, the endpoints apps call, the apps -------------------------

FORM = "application/x-www-form-urlencoded"
OAUTH_ENDPOINTS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/device_authorization")


def conforms(doc: dict, name: str, instance) -> None:
    """``instance`` is valid for the document's schema ``name``."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(instance)


def test_the_oauth2_scheme_is_the_authorization_server_s_metadata(testapp):
    doc = document()
    scheme = doc["components"]["securitySchemes"]["oauth2"]
    metadata = testapp.get("/.well-known/oauth-authorization-server").json
    conforms(doc, "AuthorizationServerMetadata", metadata)
    # OpenAPI 3.1 has the code flow, not the device flow (3.2 has): that one is described.
    assert scheme["type"] == "oauth2" and list(scheme["flows"]) == ["authorizationCode"]
    flow = scheme["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == urlsplit(metadata["authorization_endpoint"]).path
    assert flow["tokenUrl"] == flow["refreshUrl"] == urlsplit(metadata["token_endpoint"]).path
    assert flow["scopes"] == SCOPES and list(flow["scopes"]) == metadata["scopes_supported"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert doc["components"]["schemas"]["AuthorizationServerMetadata"]["properties"][
        "code_challenge_methods_supported"]["items"] == {"const": "S256", "type": "string"}
    for claim in ("token_endpoint", "revocation_endpoint", "introspection_endpoint",
                  "device_authorization_endpoint"):
        assert "post" in doc["paths"][urlsplit(metadata[claim]).path], claim
    assert set(metadata["grant_types_supported"]) == {
        "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"}
    # The authorization request (a page, so no path of the document) and the device flow.
    text = scheme["description"]
    for parameter in ("response_type=code", "client_id", "redirect_uri", "scope", "state",
                      "code_challenge", "code_challenge_method=S256", "`plain` is refused"):
        assert parameter in text, parameter
    assert "/oauth/device_authorization" in text and "/device" in text
    assert "urn:ietf:params:oauth:grant-type:device_code" in text
    assert "/oauth/authorize" not in doc["paths"] and "/device" not in doc["paths"]


def test_the_endpoints_apps_call_take_forms_and_answer_by_rfc_6749():
    doc = document()
    for path in OAUTH_ENDPOINTS:
        operation = doc["paths"][path]["post"]
        assert list(operation["requestBody"]["content"]) == [FORM], path
        assert operation["security"] == [{"oauthClient": []}, {}], path
        responses = operation["responses"]
        # oauthlib answers every refusal of the request: 400 or 401, never 403, 415 or 422.
        # Device codes are rows anyone may ask for: counted per address.
        throttled = {"429"} if path == "/oauth/device_authorization" else set()
        assert set(responses) == {"200", "400", "401", "413", "503"} | throttled, path
        assert responses["200"]["headers"]["Cache-Control"]["schema"]["const"] == "no-store"
        challenge = responses["401"]["headers"]["WWW-Authenticate"]
        assert challenge["required"] is True
        for value in ('Basic realm="dragonhoard"', 'Bearer realm="dragonhoard"'):
            assert re.search(challenge["schema"]["pattern"], value), path
        assert responses["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/OAuthError"}
        assert "Dragonhoard-Token-Expires" not in responses["200"]["headers"]
    schemas = doc["components"]["schemas"]
    assert schemas["TokenAnswer"]["required"] == ["access_token", "token_type", "expires_in",
                                                  "refresh_token", "scope"]
    assert schemas["TokenAnswer"]["properties"]["token_type"]["const"] == "Bearer"
    assert set(schemas["DeviceAuthorization"]["required"]) == {
        "device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in",
        "interval"}
    grants = {schemas[ref["$ref"].rsplit("/", 1)[1]]["properties"]["grant_type"]["const"]
              for ref in schemas["TokenRequest"]["anyOf"]}
    assert grants == {"authorization_code", "refresh_token",
                      "urn:ietf:params:oauth:grant-type:device_code"}
    assert "code_verifier" in schemas["CodeExchange"]["required"]
    # OpenAPI 3.1 has no device flow: its operation tells it, step by step.
    device = doc["paths"]["/oauth/device_authorization"]["post"]["description"]
    for step in ("user_code", "verification_uri", "/device", "interval",
                 "grant_type=urn:ietf:params:oauth:grant-type:device_code"):
        assert step in device, step


def test_the_apps_are_for_login_sessions_in_sudo_mode():
    doc = document()
    operations = {(method.upper(), path): operation for path, item in doc["paths"].items()
                  if path.startswith(("/api/apps", "/api/account/apps")) for method, operation in item.items()}
    assert set(operations) == {
        ("GET", "/api/apps"), ("POST", "/api/apps"), ("GET", "/api/apps/{id}"),
        ("PATCH", "/api/apps/{id}"), ("DELETE", "/api/apps/{id}"), ("POST", "/api/apps/{id}/secret"),
        ("GET", "/api/account/apps"), ("DELETE", "/api/account/apps/{id}")}
    for (method, path), operation in operations.items():
        assert operation["security"] == ([{"session": []}] if method == "GET" else
                                         [{"session": [], "csrf": []}]), (method, path)
        assert "session_required" in operation["description"]
        assert "403" in operation["responses"]
        if method != "GET":
            assert "sudo mode" in operation["description"], (method, path)
        if "{id}" in path:
            assert "404" in operation["responses"], (method, path)
    assert {"201", "409", "422"} <= set(operations[("POST", "/api/apps")]["responses"])
    assert "409" in operations[("POST", "/api/apps/{id}/secret")]["responses"]
    schemas = doc["components"]["schemas"]
    assert "client_secret" not in schemas["App"]["properties"]
    assert "client_secret" not in schemas["AppCreated"]["required"]
    assert set(schemas["AuthorizedApp"]["required"]) == {"app", "scopes", "projects", "created_at",
                                                         "last_used_at"}


def test_me_may_name_an_oauth_app():
    me = document()["components"]["schemas"]["Me"]
    assert me["properties"]["auth"]["enum"] == ["session", "token", "oauth"]
    assert "app" in me["properties"] and "app" not in me["required"]


def test_oauth_answers_are_those_the_document_describes(testapp, factory):
    doc = document()
    user = factory.user()
    app, secret = factory.oauth_app(user)
    tokens = tokens_for(testapp, user, app, secret)
    conforms(doc, "TokenAnswer", tokens)
    # The consent page and the token endpoint are done: what the user's session sees.
    conforms(doc, "AuthorizedAppPage", testapp.get("/api/account/apps").json)
    conforms(doc, "App", testapp.get(f"/api/apps/{app.id}").json)
    testapp.reset()
    me = testapp.get("/api/me", headers=bearer(tokens["access_token"])).json
    conforms(doc, "Me", me)
    assert me["auth"] == "oauth" and me["app"] == {"id": app.id, "name": app.name}
    client = basic(app.client_id, secret)
    for token in (tokens["access_token"], "dho_nothing"):
        answer = testapp.post("/oauth/introspect", {"token": token}, headers=client)
        assert answer.headers["Cache-Control"] == "no-store"
        conforms(doc, "Introspection", answer.json)
    device = testapp.post("/oauth/device_authorization", {"client_id": app.client_id,
                                                           "scope": "treasure:read"}, headers=client)
    conforms(doc, "DeviceAuthorization", device.json)
    revoked = testapp.post("/oauth/revoke", {"token": tokens["refresh_token"]}, headers=client)
    assert revoked.status_int == 200 and revoked.body == b""
    # Refusals: RFC 6749 section 5.2, the challenge in the scheme the app tried.
    refused = testapp.post("/oauth/token", {"grant_type": "refresh_token",
                                            "refresh_token": tokens["refresh_token"]},
                           headers=client, status=400)
    conforms(doc, "OAuthRefusal", refused.json)
    pattern = doc["paths"]["/oauth/token"]["post"]["responses"]["401"]["headers"][
        "WWW-Authenticate"]["schema"]["pattern"]
    for headers in (basic(app.client_id, "dhs_wrong"), {}):
        unknown = testapp.post("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x",
                                                "client_id": "dhc_unknown"}, headers=headers, status=401)
        conforms(doc, "OAuthError", unknown.json)
        assert re.search(pattern, unknown.headers["WWW-Authenticate"])


def test_a_created_app_is_the_document_s_app_created(testapp, factory):
    doc = document()
    csrf = login(testapp, factory.user())
    for confidential in (True, False):
        created = testapp.post_json("/api/apps", {"name": "Organizer", "confidential": confidential,
                                                  "redirect_uris": ["http://127.0.0.1:8765/cb"]},
                                    headers={"X-CSRF-Token": csrf}, status=201).json
        conforms(doc, "AppCreated", created)
        assert ("client_secret" in created) == confidential


# What the redirect URI and homepage rules are made of; the rest of a URI is
# random. A URI that passes both must be accepted; one the document refuses, refused.
URI_SCHEMES = st.sampled_from(["https", "HTTPS", "http", "hTtP", "com.example.app", "x.y", "a+b.c-d",
                               "app", "1a.b", "", "ftp", "http.x"])
URI_SEPARATORS = st.sampled_from(["://", ":/", ":", "//", ":///"])
URI_HOSTS = st.sampled_from([
    "localhost", "LocalHost", "127.0.0.1", "127.0.0.2", "[::1]", "[::2]", "[0::1]", "[::]",
    "[fe80::1%eth0]", "[::1%x]", "[v1.x]", "[V1.x]", "[1.2.3.4]", "[zz]", "[::1", "::1]",
    "example.com", "a%20b", "a@b", "a:b", ""])
URI_PORTS = st.sampled_from(["", ":", ":80", ":0080", ":65535", ":000065535", ":65536", ":x", ":-1"])
URI_RESTS = st.one_of(st.just(""), st.builds(
    str.__add__, st.sampled_from(["/", "?", "/a?b", "//", "/#x", "?#"]),
    st.text(alphabet=st.sampled_from(list("ab/?#:@[]% ~!\t\n\x00\x7fé")), max_size=6)))
SPACES = st.sampled_from(["", " ", "\t", "\u3000", "\x85 "])


@settings(max_examples=500, derandomize=True, database=None)
@given(URI_SCHEMES, URI_SEPARATORS, URI_HOSTS, URI_PORTS, URI_RESTS, SPACES, SPACES)
def test_the_stated_uri_rules_are_those_of_the_app_validators(scheme, separator, host, port, rest,
                                                               before, after):
    uri = scheme + separator + host + port + rest
    # re.fullmatch: ECMA 262's $, which a trailing newline does not pass.
    accepted = _accepts(ap.check_redirect_uri, uri)
    assert bool(re.fullmatch(openapi.REDIRECT_URI, uri)) == accepted
    assert bool(re.fullmatch(openapi.SERVER_REDIRECT_URI, uri)) == (
        accepted and not ap.is_private_scheme(uri))
    homepage = before + uri + after
    assert bool(re.fullmatch(openapi.HOMEPAGE, homepage)) == _accepts(ap.check_homepage, homepage)


@settings(max_examples=500, derandomize=True, database=None)
@given(st.text(alphabet="0123456789abcdefABCDEF:.", max_size=45))
def test_the_stated_ipv6_addresses_are_python_s(text):
    try:
        valid = isinstance(ipaddress.ip_address(text), ipaddress.IPv6Address)
    except ValueError:
        valid = False
    assert bool(re.fullmatch(openapi.IPV6, text)) == valid


# -- the same bytes everywhere, cached with an ETag --------------------------------

_BUILD = ("from dragonhoard.openapi import Document, build_document;"
          "import sys; sys.stdout.write(Document.of(build_document(('bearer', 'session'), 'dh_session')).etag)")


def test_every_process_builds_the_same_bytes():
    # Another process, with another string hash seed than this one's.
    env = dict(os.environ, PYTHONHASHSEED="12345")
    there = subprocess.run([sys.executable, "-c", _BUILD], env=env, check=True,
                           capture_output=True, text=True).stdout
    assert there == openapi.Document.of(document()).etag


def test_the_document_is_public_and_cached_with_an_etag(testapp, factory):
    answer = testapp.get("/api/openapi.json")
    assert answer.content_type == "application/json"
    assert answer.json == document()
    etag = answer.headers["ETag"]
    assert etag == '"' + hashlib.sha256(answer.body).hexdigest()[:32] + '"'
    assert answer.headers["Cache-Control"] == "no-cache"
    again = testapp.get("/api/openapi.json", headers={"If-None-Match": etag}, status=304)
    assert again.body == b"" and again.headers["ETag"] == etag
    testapp.get("/api/openapi.json", headers={"If-None-Match": '"stale"'}, status=200)
    # Credentials are judged as everywhere: a good one changes nothing, a bad one is refused.
    _, secret = factory.token(factory.user())
    assert testapp.get("/api/openapi.json", headers=bearer(secret)).body == answer.body
    testapp.get("/api/openapi.json", headers=bearer("dhp_" + "x" * 46), status=401)


def test_the_docs_page_is_a_page_with_the_pages_headers(testapp):
    page = testapp.get("/api/docs")
    assert page.content_type == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.html.find(id="swagger-ui")["data-url"] == "/api/openapi.json"
    scripts = [tag["src"] for tag in page.html.find_all("script")]
    assert all(src.startswith("/") for src in scripts), "assets come from here, never a CDN"
    assert not [tag for tag in page.html.find_all("script") if tag.string and tag.string.strip()]
    for asset in scripts + [link["href"] for link in page.html.find_all("link", rel="stylesheet")]:
        assert testapp.get(asset).status_int == 200, asset
    # JSON answers under /api/ still get no page headers.
    assert "Content-Security-Policy" not in testapp.get("/api/openapi.json").headers


def test_an_api_only_deployment_serves_its_document_and_reference(make_testapp):
    testapp = make_testapp(dragonhoard__auth_sources="bearer")
    assert testapp.get("/api/openapi.json").json == document(API_ONLY)
    assert testapp.get("/api/docs").html.find(id="swagger-ui") is not None


def test_the_pages_link_to_the_reference(testapp):
    login = testapp.get("/login")
    assert login.html.find("a", href="/api/docs") is not None

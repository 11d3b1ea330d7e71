"""A local OpenID Connect provider for the dashboards' login (tests and demos): authorization code flow with PKCE.

- `GET /.well-known/openid-configuration`: the discovery document (issuer = the address it was asked at).
- `GET /authorize?response_type=code&client_id&redirect_uri&scope=openid…&state&nonce[&code_challenge&
  code_challenge_method=S256][&login_hint]`: checks the client and its redirect URI, then a tiny login form (an
  e-mail, a "Sign in" button); a `login_hint` naming a configured user signs in at once. `POST /authorize` with the
  form: a configured user is sent back to `redirect_uri?code=…&state=…`; anyone else sees the form again, refused.
- `POST /token` (`grant_type=authorization_code`, client authentication by HTTP Basic or `client_id` +
  `client_secret` in the form): a code is good once, for 60 s, for the client and redirect URI it was given to, with
  the PKCE `code_verifier` when a challenge was sent; answers an access token and an `id_token` (RS256, signed with a
  key generated when the app is made) carrying `iss`, `sub`, `aud`, `iat`, `exp`, the `nonce` of the request,
  `email`, `email_verified`, `name` and the user's roles in the `roles_claim` claim. Errors are RFC 6749's
  (`invalid_client` 401, `invalid_grant` 400, …).
- `GET /jwks`: the public key. `GET /userinfo` with `Authorization: Bearer <access token>`: the same claims.
- `GET /logout?post_logout_redirect_uri=…` (the `end_session_endpoint`): back to that address.
- Test-only: `GET /_sandbox/log` lists each code exchange (client, user, whether PKCE and a nonce were used).

Reads no file of the warehouse's dbt project and imports no product code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CODE_TTL_S = 60
TOKEN_TTL_S = 3600


@dataclass(frozen=True)
class User:
    email: str
    name: str = ""
    roles: tuple[str, ...] = ()
    email_verified: bool = True

    @property
    def sub(self) -> str:
        return hashlib.sha256(self.email.lower().encode()).hexdigest()[:24]


@dataclass
class Provider:
    client_id: str
    client_secret: str
    users: dict[str, User]
    redirect_uris: tuple[str, ...] = ()  # empty: any http(s) URI
    roles_claim: str = "roles"
    clock: Callable[[], float] = time.time  # the tokens' iat/exp: the app's clock (tests pass the real one)
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"use": "sig"}, auto_kid=True)
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[str, dict] = field(default_factory=dict)  # login form id -> the authorize request
    codes: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)  # access token -> claims
    log: list[dict] = field(default_factory=list)

    def claims(self, user: User, issuer: str, nonce: str | None) -> dict:
        now = int(self.clock())
        claims = {
            "iss": issuer,
            "sub": user.sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + TOKEN_TTL_S,
            "email": user.email,
            "email_verified": user.email_verified,
            "name": user.name or user.email.split("@")[0],
        }
        if user.roles:
            claims[self.roles_claim] = list(user.roles)
        if nonce:
            claims["nonce"] = nonce
        return claims


def _issuer(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _error(code: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


LOGIN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Sign in — shopkeep sandbox OIDC</title>
</head><body><h1>Sign in</h1><p>{message}</p><form method="post" action="{action}">
<input type="hidden" name="request_id" value="{request_id}">
<label>E-mail <input type="email" name="email" id="email" autofocus></label>
<button type="submit" id="sign-in">Sign in</button></form></body></html>"""


def create_app(provider: Provider) -> Starlette:
    def _login_form(request: Request, request_id: str, message: str = "", status: int = 200) -> HTMLResponse:
        return HTMLResponse(
            LOGIN_PAGE.format(
                message=html.escape(message),
                action=html.escape(f"{_issuer(request)}/authorize"),
                request_id=html.escape(request_id),
            ),
            status_code=status,
        )

    def _issue_code(request_id: str, user: User) -> RedirectResponse:
        with provider.lock:
            auth = provider.pending.pop(request_id)
            code = secrets.token_urlsafe(24)
            provider.codes[code] = {**auth, "user": user, "expires": time.monotonic() + CODE_TTL_S}
        query = {"code": code, **({"state": auth["state"]} if auth.get("state") else {})}
        return RedirectResponse(f"{auth['redirect_uri']}?{urlencode(query)}", status_code=302)

    async def discovery(request: Request) -> JSONResponse:
        issuer = _issuer(request)
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "userinfo_endpoint": f"{issuer}/userinfo",
                "jwks_uri": f"{issuer}/jwks",
                "end_session_endpoint": f"{issuer}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "email", "email_verified", "name", provider.roles_claim],
            }
        )

    async def authorize(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()
            request_id = str(form.get("request_id") or "")
            email = str(form.get("email") or "").strip().lower()
            if request_id not in provider.pending:
                return HTMLResponse(
                    "This sign-in expired: go back to the app and log in again.", status_code=400
                )
            user = provider.users.get(email)
            if user is None:
                return _login_form(request, request_id, f"No account {email!r} here.", status=401)
            return _issue_code(request_id, user)
        q = request.query_params
        if q.get("client_id") != provider.client_id:
            return _error("invalid_request", "unknown client_id")  # never redirect to an unchecked URI
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")) or (
            provider.redirect_uris and redirect_uri not in provider.redirect_uris
        ):
            return _error("invalid_request", "redirect_uri is not registered for this client")
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            return _error("unsupported_response_type", "only response_type=code with scope openid")
        method = q.get("code_challenge_method", "plain") if q.get("code_challenge") else None
        if method not in (None, "S256", "plain"):
            return _error("invalid_request", "code_challenge_method must be S256 or plain")
        request_id = secrets.token_urlsafe(16)
        with provider.lock:
            provider.pending[request_id] = {
                "client_id": provider.client_id,
                "redirect_uri": redirect_uri,
                "state": q.get("state"),
                "nonce": q.get("nonce"),
                "code_challenge": q.get("code_challenge"),
                "code_challenge_method": method,
            }
        hint = (q.get("login_hint") or "").strip().lower()
        if hint in provider.users:
            return _issue_code(request_id, provider.users[hint])
        return _login_form(request, request_id)

    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                raw = base64.b64decode(header[6:]).decode()
                client_id, _, client_secret = (unquote(part) for part in raw.partition(":"))
            except ValueError:
                return _error("invalid_client", "unreadable Basic credentials", 401)
        if client_id != provider.client_id or not secrets.compare_digest(
            str(client_secret or ""), provider.client_secret
        ):
            return _error("invalid_client", "wrong client_id or client_secret", 401)
        if form.get("grant_type") != "authorization_code":
            return _error("unsupported_grant_type", "only authorization_code")
        with provider.lock:
            grant = provider.codes.pop(str(form.get("code") or ""), None)  # good once
        if grant is None or grant["expires"] < time.monotonic():
            return _error("invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _error("invalid_grant", "redirect_uri differs from the authorization request's")
        if grant["code_challenge"]:
            verifier = str(form.get("code_verifier") or "")
            if grant["code_challenge_method"] == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            else:
                expected = verifier
            if not verifier or not secrets.compare_digest(expected, grant["code_challenge"]):
                return _error("invalid_grant", "PKCE code_verifier does not match the code_challenge")
        user: User = grant["user"]
        claims = provider.claims(user, _issuer(request), grant["nonce"])
        id_token = jwt.encode({"alg": "RS256", "kid": provider.key.kid}, claims, provider.key)
        access_token = secrets.token_urlsafe(24)
        with provider.lock:
            provider.tokens[access_token] = {k: v for k, v in claims.items() if k not in ("nonce", "aud")}
            provider.log.append(
                {
                    "client_id": client_id,
                    "email": user.email,
                    "pkce": bool(grant["code_challenge"]),
                    "nonce": bool(grant["nonce"]),
                }
            )
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL_S,
                "id_token": id_token,
                "scope": "openid email profile",
            },
            headers={"Cache-Control": "no-store"},
        )

    async def jwks(_request: Request) -> JSONResponse:
        return JSONResponse(KeySet([provider.key]).as_dict(private=False))

    async def userinfo(request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        claims = provider.tokens.get(header[7:]) if header.lower().startswith("bearer ") else None
        if claims is None:
            return JSONResponse(
                {"error": "invalid_token"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return JSONResponse(claims)

    async def logout(request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri", "")
        if target.startswith(("http://", "https://")):
            return RedirectResponse(target, status_code=302)
        return HTMLResponse("Signed out.")

    async def sandbox_log(_request: Request) -> JSONResponse:
        with provider.lock:
            return JSONResponse({"exchanges": list(provider.log)})

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/authorize", authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]),
            Route("/jwks", jwks),
            Route("/userinfo", userinfo),
            Route("/logout", logout),
            Route("/_sandbox/log", sandbox_log),
        ]
    )


def make_provider(
    client_id: str,
    client_secret: str,
    users: list[User],
    *,
    roles_claim: str = "roles",
    redirect_uris=(),
    clock: Callable[[], float] = time.time,
) -> Provider:
    return Provider(
        client_id=client_id,
        client_secret=client_secret,
        users={user.email.lower(): user for user in users},
        redirect_uris=tuple(redirect_uris),
        roles_claim=roles_claim,
        clock=clock,
    )

"""A real identity provider for the OAuth tests: Keycloak in dev mode on a loopback port.

hack/build/keycloak.sh installs it (once per version, in the cache) and finds a Java 21+. The realm
`mcp` is created through the admin REST API after start (nothing is written to disk; every secret
is made for the run): client scopes for the read and write scopes; a confidential client for the
client-credentials grant (`mcp-agent`: read by default, write on request), a public client for the
password grant (`mcp-cli`) with a user, a client whose tokens are short-lived (`mcp-short`), and a
client whose tokens are meant for another audience (`other-service`). The audience mapper puts the MCP server's
resource URL in `aud`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .processes import REPO, end_process, free_port, wait_for_port

REALM = "mcp"
READ_SCOPE = "mcp:read"
WRITE_SCOPE = "mcp:write"
START_TIMEOUT_SECONDS = 240


def install() -> dict[str, str]:
    """KEYCLOAK_HOME and JAVA_HOME from hack/build/keycloak.sh (it installs Keycloak the first time)."""
    out = subprocess.run(["bash", str(REPO / "hack/build/keycloak.sh")], check=True, capture_output=True, text=True)
    found = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return {"KEYCLOAK_HOME": found["KEYCLOAK_HOME"], "JAVA_HOME": found["JAVA_HOME"]}


def _audience(resource: str) -> dict[str, Any]:
    return {"name": "mcp-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
            "config": {"included.custom.audience": resource, "access.token.claim": "true",
                       "id.token.claim": "false", "introspection.token.claim": "true"}}


def _scope(name: str, in_token: bool = True, mappers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": name, "protocol": "openid-connect", "protocolMappers": mappers or [],
            "attributes": {"include.in.token.scope": str(in_token).lower(), "display.on.consent.screen": "false"}}


def realm(resource: str, agent_secret: str, other_secret: str, user_password: str) -> dict[str, Any]:
    sub = {"name": "sub", "protocol": "openid-connect", "protocolMapper": "oidc-sub-mapper",
           "config": {"access.token.claim": "true", "introspection.token.claim": "true"}}
    confidential = {"publicClient": False, "serviceAccountsEnabled": True, "standardFlowEnabled": False,
                    "directAccessGrantsEnabled": False, "defaultClientScopes": ["basic", READ_SCOPE],
                    "optionalClientScopes": [WRITE_SCOPE], "protocolMappers": [_audience(resource)]}
    return {
        "realm": REALM, "enabled": True, "accessTokenLifespan": 300, "sslRequired": "none",
        "clientScopes": [_scope("basic", in_token=False, mappers=[sub]), _scope(READ_SCOPE), _scope(WRITE_SCOPE)],
        "defaultDefaultClientScopes": [], "defaultOptionalClientScopes": [],
        "clients": [
            {"clientId": "mcp-agent", "secret": agent_secret, **confidential},
            {"clientId": "mcp-short", "secret": agent_secret, **confidential,
             "attributes": {"access.token.lifespan": "4"}},
            {"clientId": "other-service", "secret": other_secret, **confidential,
             "protocolMappers": [_audience("urn:kringen:another-service")]},
            {"clientId": "mcp-cli", "publicClient": True, "standardFlowEnabled": False,
             "directAccessGrantsEnabled": True, "defaultClientScopes": ["basic", READ_SCOPE],
             "optionalClientScopes": [WRITE_SCOPE], "protocolMappers": [_audience(resource)]},
        ],
        "users": [{"username": "alice", "enabled": True, "email": "alice@example.org", "emailVerified": True,
                   "firstName": "Alice", "lastName": "Tester",
                   "credentials": [{"type": "password", "value": user_password, "temporary": False}]}],
    }


def _call(method: str, url: str, body: Any = None, token: str | None = None, form: dict[str, str] | None = None,
          ) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw) if raw else None
        except ValueError:
            return exc.code, raw.decode(errors="replace")


class Keycloak:
    """Keycloak on 127.0.0.1, with the realm for `resource` (the MCP server's canonical URL)."""

    def __init__(self, resource: str):
        self.resource = resource
        self.port = free_port()
        self.agent_secret = secrets.token_urlsafe(24)
        self.other_secret = secrets.token_urlsafe(24)
        self.user_password = secrets.token_urlsafe(18)
        self._admin_password = secrets.token_urlsafe(18)
        self.dir = tempfile.mkdtemp(prefix="keycloak-")
        self.proc: subprocess.Popen | None = None
        self.startup_seconds = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base}/realms/{REALM}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    def start(self) -> Keycloak:
        homes = install()
        env = {**os.environ, "JAVA_HOME": homes["JAVA_HOME"], "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
               "KC_BOOTSTRAP_ADMIN_PASSWORD": self._admin_password,
               "JAVA_OPTS_KC_HEAP": "-XX:MaxRAMPercentage=10 -XX:InitialRAMPercentage=2",
               "KC_LOG_LEVEL": "warn,org.keycloak.quarkus.runtime.KeycloakMain:info,io.quarkus:info"}
        env.pop("KC_DB", None)
        started = time.monotonic()
        # dev mode, an in-memory database (a fresh realm each run), loopback only, nothing that
        # reaches out: no health/metrics listeners, a local cache (no cluster discovery).
        self.proc = subprocess.Popen(
            [f"{homes['KEYCLOAK_HOME']}/bin/kc.sh", "start-dev", "--db=dev-mem", "--http-host=127.0.0.1",
             f"--http-port={self.port}", "--cache=local", "--health-enabled=false", "--metrics-enabled=false"],
            env=env, stdout=open(f"{self.dir}/keycloak.log", "wb"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_for_port(self.port, START_TIMEOUT_SECONDS, self.proc, "Keycloak")
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while _call("GET", f"{self.base}/realms/master/.well-known/openid-configuration")[0] != 200:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"Keycloak did not come up; log:\n{self.log()[-4000:]}")
            time.sleep(0.3)
        status, answer = _call("POST", f"{self.base}/admin/realms", token=self._admin_token(),
                               body=realm(self.resource, self.agent_secret, self.other_secret, self.user_password))
        if status != 201:
            raise RuntimeError(f"creating the realm: HTTP {status}: {answer}")
        self.startup_seconds = time.monotonic() - started
        return self

    def log(self) -> str:
        try:
            with open(f"{self.dir}/keycloak.log", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def stop(self) -> None:
        end_process(self.proc, 30)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- tokens ----------------------------------------------------------------------------

    def _admin_token(self) -> str:
        status, answer = _call("POST", f"{self.base}/realms/master/protocol/openid-connect/token",
                               form={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                     "password": self._admin_password})
        assert status == 200, answer
        return answer["access_token"]

    def token(self, client_id: str = "mcp-agent", scope: str | None = f"{READ_SCOPE} {WRITE_SCOPE}",
              base: str | None = None) -> str:
        """An access token by the client-credentials grant (`base`: reach Keycloak by another name)."""
        secret = self.other_secret if client_id == "other-service" else self.agent_secret
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        if scope:
            form["scope"] = scope
        status, answer = _call("POST", f"{base or self.base}/realms/{REALM}/protocol/openid-connect/token", form=form)
        assert status == 200, answer
        return answer["access_token"]

    def user_token(self, scope: str = f"{READ_SCOPE} {WRITE_SCOPE}") -> str:
        """alice's access token by the password grant."""
        status, answer = _call("POST", self.token_endpoint, form={
            "grant_type": "password", "client_id": "mcp-cli", "username": "alice", "password": self.user_password,
            "scope": scope})
        assert status == 200, answer
        return answer["access_token"]

    def jwks(self) -> dict[str, Any]:
        status, answer = _call("GET", f"{self.issuer}/protocol/openid-connect/certs")
        assert status == 200, answer
        return answer

    # --- key rotation ----------------------------------------------------------------------

    def rotate_signing_key(self) -> None:
        """Add a new RS256 key with a higher priority (it signs from now on), then remove the old ones."""
        admin = self._admin_token()
        components = f"{self.base}/admin/realms/{REALM}/components"
        status, realm_info = _call("GET", f"{self.base}/admin/realms/{REALM}", token=admin)
        assert status == 200, realm_info
        status, providers = _call("GET", f"{components}?type=org.keycloak.keys.KeyProvider", token=admin)
        assert status == 200, providers
        old = [p["id"] for p in providers if p.get("providerId") in ("rsa-generated", "rsa") and
               "RS256" in p.get("config", {}).get("algorithm", ["RS256"])]
        assert old, providers
        priority = str(max(int(p.get("config", {}).get("priority", ["0"])[0]) for p in providers) + 100)
        status, answer = _call("POST", components, token=admin, body={
            "name": f"rotated-{secrets.token_hex(3)}", "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider", "parentId": realm_info["id"],
            "config": {"priority": [priority], "enabled": ["true"], "active": ["true"], "algorithm": ["RS256"],
                       "keySize": ["2048"]}})
        assert status == 201, answer
        for component in old:
            status, answer = _call("DELETE", f"{components}/{component}", token=admin)
            assert status == 204, answer

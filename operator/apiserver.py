"""The connection to the Kubernetes API server: where it is, how to log in, one HTTP session.

Plain aiohttp and JSON, no generated client: a client library's models cost the operator
tens of MiB of memory, and Kopf imports ``kubernetes_asyncio`` whenever it is installed.

In a pod the login is the service account's: its token (read again as the kubelet rotates
it), its CA, and ``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT``. Elsewhere it is a
kubeconfig's (``$KUBECONFIG``, a list of files as kubectl merges them, else
``~/.kube/config``): a client certificate, a bearer token or token file, or a user name and
password. Exec and auth-provider plugins are not supported (cloud logins in a kubeconfig).
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import yaml

SERVICE_ACCOUNT_DIR: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount")
TOKEN_REREAD_SECONDS: Final = 60.0
"""A token file is read again at most this often (and at once on a 401): the kubelet
rotates a projected token well before it expires."""
CONNECTIONS: Final = 100
"""Connections open at once: a start with a thousand scenarios sends hundreds of requests
together (ten made such a start three times slower)."""
TIMEOUT: Final = aiohttp.ClientTimeout(total=120, sock_connect=10)
USER_AGENT: Final = "ripple-operator"

JSON: Final = "application/json"
JSON_PATCH: Final = "application/json-patch+json"
MERGE_PATCH: Final = "application/merge-patch+json"
METADATA_LIST: Final = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
"""Accept header that lists objects' metadata only (no ConfigMap's data)."""


class ApiError(Exception):
    """The API server answered with an error status; its ``Status`` body is kept as text."""

    def __init__(
        self,
        status: int,
        reason: str = "",
        body: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.body = body
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        super().__init__(f"({status}) {reason}: {self.message}" if body else f"({status}) {reason}")

    @property
    def message(self) -> str:
        """The ``message`` of the API server's Status answer, else the HTTP reason."""
        try:
            answer = json.loads(self.body or "{}")
        except ValueError:
            answer = None
        message = answer.get("message") if isinstance(answer, dict) else None
        return str(message or self.reason or self.status)


class KubeconfigError(ValueError):
    """The kubeconfig does not say how to reach and log in to an API server we can use."""


@dataclass(frozen=True, kw_only=True)
class Login:
    """Where the API server is and how to prove who we are, as plain values."""

    server: str
    """Base URL, ``https://host:port`` and any path prefix, without a trailing slash."""
    ca_file: Path | None = None
    ca_data: str | None = None
    """PEM text of the CA certificates (a kubeconfig's ``certificate-authority-data``)."""
    verify: bool = True
    """``False`` only for ``insecure-skip-tls-verify``."""
    tls_server_name: str | None = None
    """The name to check the server's certificate against, when not the URL's host."""
    cert_file: Path | None = None
    key_file: Path | None = None
    cert_data: bytes | None = None
    key_data: bytes | None = field(default=None, repr=False)
    """Secret, like ``token`` and ``password``: never in a repr (a log line, a traceback)."""
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    """Read again as it rotates (a service account's projected token)."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)


# --- finding the login ---------------------------------------------------------------------


def in_cluster_login(
    environ: Mapping[str, str], *, account_dir: Path = SERVICE_ACCOUNT_DIR
) -> Login:
    """Log in as the pod's service account, at the ``kubernetes`` Service's address."""
    host = environ["KUBERNETES_SERVICE_HOST"]
    port = environ.get("KUBERNETES_SERVICE_PORT") or "443"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return Login(
        server=f"https://{host}:{port}",
        ca_file=account_dir / "ca.crt",
        token_file=account_dir / "token",
    )


def kubeconfig_paths(environ: Mapping[str, str]) -> list[Path]:
    """List the kubeconfig files kubectl would read: ``$KUBECONFIG``'s, else ~/.kube/config."""
    listed = [Path(p).expanduser() for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [Path("~/.kube/config").expanduser()]


def load_kubeconfig(paths: Sequence[Path], *, context: str | None = None) -> Login:
    """Read the kubeconfig files (missing ones skipped, as kubectl does) and find the login."""
    documents: list[tuple[Mapping[str, Any], Path]] = []
    for path in paths:
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        document = yaml.safe_load(text) or {}
        if not isinstance(document, Mapping):
            raise KubeconfigError(f"{path}: not a kubeconfig")
        documents.append((document, path.parent))
    if not documents:
        raise KubeconfigError(f"no kubeconfig in {', '.join(map(str, paths))}")
    return kubeconfig_login(documents, context=context)


def kubeconfig_login(
    documents: Sequence[tuple[Mapping[str, Any], Path]], *, context: str | None = None
) -> Login:
    """Find the login of ``context`` (else the current one) in merged kubeconfig documents.

    Each document comes with the folder its relative file names are relative to. As kubectl
    merges them, the first document that names a cluster, user or context wins, and the
    first ``current-context`` set.
    """
    entries: dict[str, dict[str, tuple[Mapping[str, Any], Path]]] = {
        "clusters": {},
        "users": {},
        "contexts": {},
    }
    current = context
    for document, base in documents:
        current = current or document.get("current-context") or None
        for kind, key in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for entry in document.get(kind) or []:
                if isinstance(entry, Mapping) and "name" in entry:
                    entries[kind].setdefault(str(entry["name"]), (entry.get(key) or {}, base))
    if not current:
        raise KubeconfigError("the kubeconfig sets no current-context")
    if current not in entries["contexts"]:
        raise KubeconfigError(f"the kubeconfig has no context {current!r}")
    chosen, _ = entries["contexts"][current]
    cluster_name, user_name = chosen.get("cluster"), chosen.get("user")
    if cluster_name not in entries["clusters"]:
        raise KubeconfigError(f"context {current!r}: no cluster {cluster_name!r}")
    cluster, cluster_base = entries["clusters"][str(cluster_name)]
    user, user_base = entries["users"].get(str(user_name), ({}, cluster_base))
    if not cluster.get("server"):
        raise KubeconfigError(f"cluster {cluster_name!r} has no server")
    for plugin in ("exec", "auth-provider"):
        if user.get(plugin):
            raise KubeconfigError(f"user {user_name!r}: {plugin} logins are not supported")
    token = user.get("token") or None
    return Login(
        server=str(cluster["server"]).rstrip("/"),
        ca_file=_file(cluster, "certificate-authority", cluster_base),
        ca_data=_data(cluster, "certificate-authority-data", text=True),
        verify=not cluster.get("insecure-skip-tls-verify", False),
        tls_server_name=cluster.get("tls-server-name") or None,
        cert_file=_file(user, "client-certificate", user_base),
        key_file=_file(user, "client-key", user_base),
        cert_data=_data(user, "client-certificate-data"),
        key_data=_data(user, "client-key-data"),
        token=str(token) if token else None,
        token_file=None if token else _file(user, "tokenFile", user_base),
        username=user.get("username") or None,
        password=user.get("password") or None,
    )


def _file(entry: Mapping[str, Any], key: str, base: Path) -> Path | None:
    value = entry.get(key)
    return base / Path(str(value)).expanduser() if value else None


def _data(entry: Mapping[str, Any], key: str, *, text: bool = False) -> Any:
    value = entry.get(key)
    if not value:
        return None
    decoded = base64.b64decode(str(value))
    return decoded.decode() if text else decoded


def ssl_context(login: Login) -> ssl.SSLContext:
    """Trust the login's CA (else the system's) and present its client certificate, if any."""
    context = ssl.create_default_context(
        cafile=str(login.ca_file) if login.ca_file else None, cadata=login.ca_data
    )
    if not login.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if login.cert_file is not None:
        context.load_cert_chain(login.cert_file, login.key_file)
    elif login.cert_data is not None:
        # The ssl module loads certificates from files only; these live for this call.
        with tempfile.TemporaryDirectory(prefix="ripple-login-") as folder:
            cert, key = Path(folder, "tls.crt"), Path(folder, "tls.key")
            cert.write_bytes(login.cert_data)
            key.touch(mode=0o600)
            key.write_bytes(login.key_data or b"")
            context.load_cert_chain(cert, key if login.key_data else None)
    return context


# --- requests --------------------------------------------------------------------------------


def resource_path(
    group: str,
    version: str,
    plural: str,
    *,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    """Give the API path of a kind's collection, of one object, or of one's subresource.

    The core group is ``""`` (``/api/v1``); every name is escaped as one path segment.
    """
    parts = ["api", version] if not group else ["apis", group, version]
    if namespace is not None:
        parts += ["namespaces", namespace]
    parts.append(plural)
    if name is not None:
        parts.append(name)
        if subresource is not None:
            parts.append(subresource)
    return "/" + "/".join(quote(part, safe="") for part in parts)


class _Token:
    """The bearer token: fixed, or a file read again when it may have rotated."""

    def __init__(self, login: Login) -> None:
        self._fixed = login.token
        self._file = login.token_file
        self._read: tuple[float, str] | None = None

    def header(self) -> str | None:
        if self._fixed:
            return f"Bearer {self._fixed}"
        if self._file is None:
            return None
        now = time.monotonic()
        if self._read is None or now - self._read[0] >= TOKEN_REREAD_SECONDS:
            self._read = (now, self._file.read_text().strip())
        return f"Bearer {self._read[1]}"

    def rotates(self) -> bool:
        """Forget the token read (a 401: it may have just rotated); whether it may have."""
        self._read = None
        return self._file is not None


class ApiClient:
    """One aiohttp session to the API server; create it in the event loop, then close it."""

    def __init__(self, login: Login, *, connections: int = CONNECTIONS) -> None:
        self.server = login.server
        self._token = _Token(login)
        self._basic = (
            aiohttp.BasicAuth(login.username, login.password or "")
            if login.username and not (login.token or login.token_file)
            else None
        )
        self._server_hostname = login.tls_server_name
        connector = aiohttp.TCPConnector(limit=connections, ssl=ssl_context(login))
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=TIMEOUT,
            headers={"User-Agent": USER_AGENT},
        )

    async def close(self) -> None:
        """Close the connections."""
        await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> Any:
        """Send one request; give the answer's JSON, or raise :class:`ApiError`."""
        data = None if body is None else json.dumps(body, default=_plain).encode()
        for attempt in range(2):
            headers = {"Accept": accept}
            if data is not None:
                headers["Content-Type"] = content_type
            authorization = self._token.header()
            if authorization is not None:
                headers["Authorization"] = authorization
            async with self._session.request(
                method,
                self.server + path,
                params=query,
                data=data,
                headers=headers,
                auth=self._basic,
                server_hostname=self._server_hostname,
            ) as response:
                content = await response.read()
                if response.status == 401 and attempt == 0 and self._token.rotates():
                    continue
                if response.status >= 400:
                    raise ApiError(
                        response.status,
                        response.reason or "",
                        content.decode(errors="replace"),
                        response.headers,
                    )
                return json.loads(content) if content else None
        raise AssertionError("unreachable")  # pragma: no cover


def _plain(value: object) -> object:
    """Serialize the read-only mappings a manifest may hold as JSON serializes dicts."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")

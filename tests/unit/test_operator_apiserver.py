"""The API server's address and login from a pod or a kubeconfig, its paths and its errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ripple_operator.apiserver import (
    ApiError,
    KubeconfigError,
    Login,
    _Token,
    in_cluster_login,
    kubeconfig_login,
    kubeconfig_paths,
    load_kubeconfig,
    resource_path,
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def kubeconfig(
    *, user: dict[str, Any], cluster: dict[str, Any] | None = None, current: str = "here"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster or {"server": "https://10.0.0.1:6443/"}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "here", "context": {"cluster": "c", "user": "u"}}],
        "current-context": current,
    }


def test_client_certificate_data_as_the_local_cluster_writes_it() -> None:
    config = kubeconfig(
        cluster={"server": "https://127.0.0.1:6443", "certificate-authority-data": b64("CA")},
        user={"client-certificate-data": b64("CERT"), "client-key-data": b64("KEY")},
    )
    login = kubeconfig_login([(config, Path("/k"))])
    assert login == Login(
        server="https://127.0.0.1:6443", ca_data="CA", cert_data=b"CERT", key_data=b"KEY"
    )


def test_relative_files_are_relative_to_their_kubeconfig() -> None:
    config = kubeconfig(
        cluster={"server": "https://k:443", "certificate-authority": "ca.crt"},
        user={"client-certificate": "certs/me.crt", "client-key": "/abs/me.key"},
    )
    login = kubeconfig_login([(config, Path("/home/me/.kube"))])
    assert login.ca_file == Path("/home/me/.kube/ca.crt")
    assert login.cert_file == Path("/home/me/.kube/certs/me.crt")
    assert login.key_file == Path("/abs/me.key")
    assert login.server == "https://k:443"


def test_token_token_file_and_basic_logins() -> None:
    assert kubeconfig_login([(kubeconfig(user={"token": "t0k"}), Path("/k"))]).token == "t0k"
    from_file = kubeconfig_login([(kubeconfig(user={"tokenFile": "tok"}), Path("/k"))])
    assert (from_file.token, from_file.token_file) == (None, Path("/k/tok"))
    basic = kubeconfig_login([(kubeconfig(user={"username": "a", "password": "b"}), Path("/"))])
    assert (basic.username, basic.password) == ("a", "b")


def test_insecure_and_tls_server_name() -> None:
    cluster = {
        "server": "https://1.2.3.4",
        "insecure-skip-tls-verify": True,
        "tls-server-name": "api.internal",
    }
    login = kubeconfig_login([(kubeconfig(cluster=cluster, user={}), Path("/"))])
    assert login.verify is False
    assert login.tls_server_name == "api.internal"


@pytest.mark.parametrize("plugin", ["exec", "auth-provider"])
def test_plugin_logins_are_refused_by_name(plugin: str) -> None:
    config = kubeconfig(user={plugin: {"command": "aws"}})
    with pytest.raises(KubeconfigError, match=f"{plugin} logins are not supported"):
        kubeconfig_login([(config, Path("/"))])


def test_a_missing_context_is_named() -> None:
    with pytest.raises(KubeconfigError, match="no context 'elsewhere'"):
        kubeconfig_login([(kubeconfig(user={}, current="elsewhere"), Path("/"))])
    with pytest.raises(KubeconfigError, match="no current-context"):
        kubeconfig_login([(kubeconfig(user={}, current=""), Path("/"))])


def test_merged_files_first_name_and_first_current_context_win() -> None:
    first: dict[str, Any] = {
        "users": [{"name": "u", "user": {"token": "first"}}],
        "current-context": "here",
    }
    second = kubeconfig(user={"token": "second"}, current="other")
    login = kubeconfig_login([(first, Path("/a")), (second, Path("/b"))])
    assert login.token == "first"
    assert login.server == "https://10.0.0.1:6443"
    chosen = kubeconfig_login([(first, Path("/a")), (second, Path("/b"))], context="here")
    assert chosen.token == "first"


def test_kubeconfig_files_are_read_from_the_list_missing_ones_skipped(tmp_path: Path) -> None:
    real = tmp_path / "config"
    real.write_text(json.dumps(kubeconfig(user={"token": "t"})))  # JSON is YAML too
    paths = kubeconfig_paths({"KUBECONFIG": f"{tmp_path / 'absent'}:{real}"})
    assert paths == [tmp_path / "absent", real]
    assert load_kubeconfig(paths).token == "t"
    with pytest.raises(KubeconfigError, match="no kubeconfig"):
        load_kubeconfig([tmp_path / "absent"])
    assert kubeconfig_paths({}) == [Path("~/.kube/config").expanduser()]


def test_in_cluster_login_reads_the_service_account(tmp_path: Path) -> None:
    login = in_cluster_login(
        {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"},
        account_dir=tmp_path,
    )
    assert login == Login(
        server="https://10.96.0.1:443", ca_file=tmp_path / "ca.crt", token_file=tmp_path / "token"
    )
    v6 = in_cluster_login({"KUBERNETES_SERVICE_HOST": "fd00::1"}, account_dir=tmp_path)
    assert v6.server == "https://[fd00::1]:443"


def test_a_token_file_is_read_again_after_a_401(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("one\n")
    reader = _Token(Login(server="https://k", token_file=token))
    assert reader.header() == "Bearer one"
    token.write_text("two\n")
    assert reader.header() == "Bearer one"  # within a minute of the last read
    assert reader.rotates() is True
    assert reader.header() == "Bearer two"
    assert _Token(Login(server="https://k", token="fixed")).rotates() is False
    assert _Token(Login(server="https://k")).header() is None


@pytest.mark.parametrize(
    ("args", "kwargs", "path"),
    [
        (("", "v1", "pods"), {"namespace": "ns"}, "/api/v1/namespaces/ns/pods"),
        (("batch", "v1", "jobs"), {}, "/apis/batch/v1/jobs"),
        (
            ("ripple.dev", "v1alpha1", "chaosscenarios"),
            {"namespace": "ns", "name": "a", "subresource": "status"},
            "/apis/ripple.dev/v1alpha1/namespaces/ns/chaosscenarios/a/status",
        ),
        (
            ("scheduling.k8s.io", "v1", "priorityclasses"),
            {"name": "x/../y"},
            "/apis/scheduling.k8s.io/v1/priorityclasses/x%2F..%2Fy",
        ),
    ],
)
def test_resource_paths(args: tuple[str, str, str], kwargs: dict[str, Any], path: str) -> None:
    assert resource_path(*args, **kwargs) == path


def test_api_error_gives_the_status_message() -> None:
    status = {"kind": "Status", "message": 'jobs "x" already exists', "reason": "AlreadyExists"}
    exc = ApiError(409, "Conflict", json.dumps(status), {"Content-Type": "application/json"})
    assert (exc.status, exc.reason, exc.message) == (409, "Conflict", 'jobs "x" already exists')
    assert "409" in str(exc)
    assert exc.headers["Content-Type"] == "application/json"
    assert ApiError(502, "Bad Gateway", "<html>").message == "Bad Gateway"
    assert ApiError(500).message == "500"
    assert ApiError(500, body="[1]").message == "500"


def test_read_only_mappings_are_sent_as_objects() -> None:
    from types import MappingProxyType

    from ripple_operator.apiserver import _plain

    manifest = {"metadata": MappingProxyType({"labels": MappingProxyType({"a": "b"})})}
    assert json.loads(json.dumps(manifest, default=_plain)) == {"metadata": {"labels": {"a": "b"}}}
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        json.dumps({"x": {1}}, default=_plain)


def test_a_login_never_shows_its_secrets() -> None:
    # a Login in a log line or a traceback must not carry the token, password or key
    login = Login(
        server="https://k",
        token="s3cr3t-token",
        username="admin",
        password="s3cr3t-password",
        key_data=b"s3cr3t-key",
    )
    shown = repr(login)
    assert "https://k" in shown
    assert "admin" in shown
    assert "s3cr3t" not in shown, shown

"""Parsing ``ripple service`` flags and their RIPPLE_* twins (pure)."""

from __future__ import annotations

import pytest
import yarl

from ripple_services.config import ConfigError, ServiceConfig, parse_config


def test_defaults_for_back() -> None:
    assert parse_config(["--role", "back"], {}) == ServiceConfig(role="back")
    config = parse_config(["--role", "back"], {})
    assert (config.host, config.port, config.upstream_timeout, config.shutdown_delay) == (
        "0.0.0.0",
        8080,
        1.0,
        5.0,
    )
    assert config.upstream is None
    assert config.upstream_name is None


def test_environment_fills_every_setting() -> None:
    config = parse_config(
        [],
        {
            "RIPPLE_ROLE": "middle",
            "RIPPLE_HOST": "127.0.0.1",
            "RIPPLE_PORT": "9000",
            "RIPPLE_UPSTREAM": "http://back:8080/",
            "RIPPLE_UPSTREAM_TIMEOUT": "0.25",
            "RIPPLE_SHUTDOWN_DELAY": "0",
        },
    )
    assert config == ServiceConfig(
        role="middle",
        host="127.0.0.1",
        port=9000,
        upstream=yarl.URL("http://back:8080/"),
        upstream_timeout=0.25,
        shutdown_delay=0.0,
    )
    assert config.upstream_name == "back"


def test_flags_win_over_environment_even_a_bad_one() -> None:
    env = {
        "RIPPLE_ROLE": "back",
        "RIPPLE_PORT": "not-a-port",
        "RIPPLE_UPSTREAM_TIMEOUT": "-5",
        "RIPPLE_UPSTREAM": "http://ignored/",
    }
    config = parse_config(
        [
            "--role",
            "front",
            "--port",
            "8081",
            "--upstream-timeout",
            "2",
            "--upstream",
            "http://middle:8080/",
        ],
        env,
    )
    assert config.role == "front"
    assert config.port == 8081
    assert config.upstream_timeout == 2.0
    assert str(config.upstream) == "http://middle:8080/"
    assert config.upstream_name == "middle"


def test_empty_environment_variable_counts_as_unset() -> None:
    config = parse_config(["--role", "back"], {"RIPPLE_UPSTREAM": "", "RIPPLE_PORT": ""})
    assert config.upstream is None
    assert config.port == 8080


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--role", "edge"], {}, "--role: unknown role 'edge' (expected front, middle or back)"),
        ([], {}, "--role (or RIPPLE_ROLE) is required: front, middle or back"),
        (
            ["--role", "front"],
            {},
            "--upstream (or RIPPLE_UPSTREAM) is required for front: the middle URL",
        ),
        (
            ["--role", "back", "--upstream", "http://x/"],
            {},
            "--upstream: back has no upstream; remove it",
        ),
        (
            ["--role", "middle", "--upstream", "ftp://back/"],
            {},
            "--upstream: malformed URL 'ftp://back/' (expected http://HOST[:PORT]/PATH)",
        ),
        (
            ["--role", "middle"],
            {"RIPPLE_UPSTREAM": "http://back:99999/"},
            "RIPPLE_UPSTREAM: malformed URL 'http://back:99999/'",
        ),
        (
            ["--role", "middle", "--upstream", "http://back/", "--upstream-timeout", "-0.5"],
            {},
            "--upstream-timeout: must be a non-negative number of seconds, got '-0.5'",
        ),
        (
            ["--role", "middle", "--upstream", "http://back/", "--upstream-timeout", "0"],
            {},
            "--upstream-timeout: must be more than 0 seconds",
        ),
        (
            ["--role", "back"],
            {"RIPPLE_SHUTDOWN_DELAY": "nan"},
            "RIPPLE_SHUTDOWN_DELAY: must be a non-negative number of seconds, got 'nan'",
        ),
        (["--role", "back", "--port", "http"], {}, "--port: expected a port number, got 'http'"),
    ],
)
def test_bad_values_name_the_flag_or_variable(
    argv: list[str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(argv, env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_bad_flag_syntax_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse_config(["--role"], {})
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err == "ripple service: error: argument --role: expected one argument\n"


def test_upstream_max_connection_age_default_env_and_flag() -> None:
    base = ["--role", "middle", "--upstream", "http://back:8080/"]
    assert parse_config(base, {}).upstream_max_connection_age == 5.0
    env = {"RIPPLE_UPSTREAM_MAX_CONNECTION_AGE": "0"}
    assert parse_config(base, env).upstream_max_connection_age == 0.0
    flagged = [*base, "--upstream-max-connection-age", "2.5"]
    assert parse_config(flagged, env).upstream_max_connection_age == 2.5
    with pytest.raises(ConfigError, match="--upstream-max-connection-age: must be a non-negative"):
        parse_config([*base, "--upstream-max-connection-age", "-1"], {})

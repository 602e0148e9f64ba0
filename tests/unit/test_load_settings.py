"""``ripple load`` refuses bad settings in one line before starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from ripple_experiments.load import cli as load_cli
from ripple_experiments.load.vegeta import LoadSettings, check_settings
from ripple_experiments.runner import cli as runner_cli


def settings(**overrides: str) -> LoadSettings:
    values = {"target": "http://front:8080/", "rate": "5/1s", "timeout": "3s", "duration": "0"}
    values.update(overrides)
    return LoadSettings(output_dir=Path("/tmp/x"), **values)


@pytest.mark.parametrize("rate", ["5/1s", "100/1m", "1/500ms", "999999/1h"])
def test_good_rates(rate: str) -> None:
    check_settings(settings(rate=rate))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("target", "front:8080", "--target must be an http"),
        ("target", "ftp://x/", "--target must be an http"),
        ("rate", "0", "--rate must look like"),
        ("rate", "5", "--rate must look like"),
        ("rate", "10/1.5s", "--rate must look like"),
        ("timeout", "3µs", "--timeout must be a duration"),
        ("rate", "5/x", "--rate must look like"),
        ("timeout", "3", "--timeout must be a duration"),
        ("duration", "forever", "--duration must be 0 or"),
    ],
)
def test_bad_settings_name_the_flag(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_settings(settings(**{field: value}))


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--target", "http://x/", "--bogus"],
        ["--target", "nope"],
        ["--target", "http://x/", "--rate", "-1"],
    ],
)
def test_load_cli_bad_flags_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        load_cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ripple load: error: ")


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["smoke", "--rollback-strategy", "sometimes"], "invalid choice"),
        (["smoke", "--scenario", "s"], "--scenario, --namespace and --run go together"),
        (["no-such-experiment"], "no built-in experiment or file named"),
        (["smoke", "--configuration", "window_seconds=ten"], "expects int"),
        (["smoke", "--configuration", "typo=1"], "unknown configuration key"),
        (
            ["smoke", "--load-target", "http://x/", "--load-rate", "fast"],
            "--load-rate must look like",
        ),
    ],
)
def test_runner_cli_bad_input_exits_2_with_one_line(
    argv: list[str],
    problem: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RIPPLE_TERMINATION_LOG", str(tmp_path / "termination-log"))
    with pytest.raises(SystemExit) as exited:
        runner_cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert problem in err
    assert not (tmp_path / "journal.json").exists(), "nothing ran"

"""``ripple operator``: a bad flag or a bad RIPPLE_* value is exit code 2 and one line."""

from __future__ import annotations

import pytest

from ripple_operator.main import main


def test_a_bad_flag_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--no-such-flag"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--no-such-flag" in err


def test_a_bad_environment_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RIPPLE_LOG_FORMAT", "xml")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err == "ripple operator: error: RIPPLE_LOG_FORMAT: 'xml' is not one of plain, json\n"

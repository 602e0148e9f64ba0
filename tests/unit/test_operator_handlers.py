"""How the handlers turn domain outcomes into Kopf's: give up, or retry after a backoff."""

from __future__ import annotations

import kopf
import pytest

from ripple_operator.experiment_source import ConfigMapNotFoundError
from ripple_operator.handlers import backoff, outcome
from ripple_operator.kube import StatusConflictError
from ripple_operator.reconcile import RunsStillStoppingError
from ripple_operator.spec import InvalidSpecError


async def test_an_invalid_spec_gives_up() -> None:
    with pytest.raises(kopf.PermanentError, match=r"^spec\.load\.rate: bad$"):
        async with outcome("test", retry=0):
            raise InvalidSpecError("spec.load.rate", "bad")


async def test_a_missing_configmap_retries_with_a_growing_backoff() -> None:
    delays = []
    for retry in (0, 3, 30):
        with pytest.raises(kopf.TemporaryError) as caught:
            async with outcome("test", retry=retry):
                raise ConfigMapNotFoundError("later")
        assert "waiting for ConfigMap 'later'" in str(caught.value)
        delays.append(caught.value.delay)
    assert delays == [1.0, 8.0, 60.0]


@pytest.mark.parametrize(
    ("error", "delay"),
    [(StatusConflictError("busy"), 1.0), (RunsStillStoppingError("job x"), 2.0)],
)
async def test_known_waits_keep_their_own_delay(error: Exception, delay: float) -> None:
    with pytest.raises(kopf.TemporaryError) as caught:
        async with outcome("test", retry=5):
            raise error
    assert caught.value.delay == delay


async def test_other_errors_pass_through_for_kopf_to_log_and_retry() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with outcome("test", retry=0):
            raise RuntimeError("boom")


def test_backoff_is_capped_at_a_minute() -> None:
    assert [backoff(r) for r in (0, 1, 2, 5, 6, 100)] == [1.0, 2.0, 4.0, 32.0, 60.0, 60.0]

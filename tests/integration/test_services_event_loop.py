"""The services run on uvloop's event loop (a dependency: it cuts the chain's CPU per request)."""

from __future__ import annotations

from pathlib import Path

import psutil

from tests.support.services import start_service, wait_ready


async def test_service_process_runs_on_uvloop(tmp_path: Path) -> None:
    back = start_service("back", tmp_path)
    try:
        await wait_ready(back)
        # The loop is uvloop's when its extension module is mapped into the serving process.
        mapped = [m.path for m in psutil.Process(back.proc.pid).memory_maps()]
        assert any("/uvloop/loop." in path for path in mapped), mapped
    finally:
        assert back.stop() == 0

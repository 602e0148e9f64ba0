"""One leader among the operator's replicas, elected by a Kubernetes Lease.

A replica that starts waits as a standby (its liveness endpoint answers) until the Lease is
free or its holder stopped renewing it; then it runs the operator and renews the Lease every
``RENEW_SECONDS``. A leader that cannot renew for most of the Lease's duration stops
(before any standby may take over), and one that stops releases the Lease, so the standby
takes over at its next look. Runs are named ``<scenario>-<run>`` and results are written at
a read resourceVersion, so even a late old leader cannot start a run twice or record it
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from . import lease
from .kube import Kube

logger = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Elector:
    """Take, renew and release the Lease for this replica."""

    kube: Kube
    namespace: str
    name: str
    identity: str
    observed: lease.Observed | None = None
    held_since: float | None = None
    """When this replica last wrote itself into the Lease (monotonic seconds)."""

    async def try_take(self) -> bool | None:
        """Take or renew the Lease: ``True`` held, ``False`` free soon, ``None`` held by another."""
        found = await self.kube.read_lease(self.namespace, self.name)
        now = time.monotonic()
        holding = lease.holding_of(found) if found is not None else None
        if holding is not None:
            self.observed = lease.observe(self.observed, holding, now)
            if not lease.may_take(holding, self.observed, self.identity, now):
                return None
        spec = lease.taken_spec(holding, self.identity, datetime.now(UTC))
        version = holding.resource_version if holding is not None else ""
        stored = await self.kube.write_lease(
            self.namespace, self.name, spec, resource_version=version
        )
        if stored is None:
            return False
        self.held_since = now
        return True

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait as a standby until this replica leads (``True``) or is stopped (``False``)."""
        logger.info("standby: waiting for Lease %s/%s", self.namespace, self.name)
        while not stop.is_set():
            try:
                if await self.try_take():
                    logger.info("leading: Lease %s/%s is ours", self.namespace, self.name)
                    return True
            except Exception as exc:
                logger.warning("Lease %s/%s not read: %s", self.namespace, self.name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=lease.RETRY_SECONDS)
        return False

    async def keep(self, lost: asyncio.Event) -> None:
        """Renew the Lease until cancelled; set ``lost`` when it is another's or stale."""
        while True:
            await asyncio.sleep(lease.RENEW_SECONDS)
            try:
                held = await self.try_take()
            except Exception as exc:
                logger.warning("Lease %s/%s not renewed: %s", self.namespace, self.name, exc)
                held = False
            if held is None:
                logger.error("Lease %s/%s taken by another replica", self.namespace, self.name)
                lost.set()
                return
            since = self.held_since or 0.0
            if not held and time.monotonic() - since >= lease.DURATION_SECONDS - 1:
                logger.error("Lease %s/%s not renewed in time", self.namespace, self.name)
                lost.set()
                return

    async def release(self) -> None:
        """Give the Lease up, so a standby takes over at once; errors are only logged."""
        try:
            found = await self.kube.read_lease(self.namespace, self.name)
            if found is None:
                return
            holding = lease.holding_of(found)
            if holding.holder != self.identity:
                return
            await self.kube.write_lease(
                self.namespace,
                self.name,
                lease.released_spec(holding),
                resource_version=holding.resource_version,
            )
            logger.info("Lease %s/%s released", self.namespace, self.name)
        except Exception as exc:
            logger.warning("Lease %s/%s not released: %s", self.namespace, self.name, exc)


async def serve_standby_health(port: int) -> web.AppRunner | None:
    """Answer the kubelet's liveness probe while waiting (Kopf's endpoint starts later)."""
    if not port:
        return None

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"standby": True})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    return runner

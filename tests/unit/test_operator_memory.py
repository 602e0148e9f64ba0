"""The memory trimmer gives the heap's freed pages back to the system (glibc only)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import kopf
import pytest

from ripple_operator import memory

needs_glibc = pytest.mark.skipif(memory.MALLOC_TRIM is None, reason="no glibc malloc_trim")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@needs_glibc
def test_freed_bodies_go_back_to_the_system() -> None:
    # As a start's bodies: 100 MiB of 4 KiB strings (the heap, below mmap's threshold),
    # each 64th kept alive so that the heap's top never shrinks on its own.
    chunks = [bytes(4096) + i.to_bytes(4, "big") for i in range(25_600)]
    kept = chunks[::64]
    del chunks
    before = rss_kib()
    memory.release_free_memory()
    after = rss_kib()
    assert kept
    assert before - after > 50 * 1024, (before, after)


class ThriceTold(memory.Trimmer):
    """A trimmer that says when it has looked three times."""

    def __init__(self) -> None:
        super().__init__()
        self.thrice = asyncio.Event()

    def step(self) -> bool:
        collected = super().step()
        if self.looks >= 3:
            self.thrice.set()
        return collected


@needs_glibc
async def test_the_trimmer_runs_until_stopped() -> None:
    memo = kopf.Memo()
    trimmer = ThriceTold()
    memory.start(memo, period=0.01, trimmer=trimmer)
    task = memo[memory.MEMO_TRIMMER]
    async with asyncio.timeout(10):  # it looks again and again, on its own
        await trimmer.thrice.wait()
    assert not task.done()
    await memory.stop(memo)
    assert task.cancelled()


async def test_stop_without_a_trimmer() -> None:
    await memory.stop(kopf.Memo())


@needs_glibc
def test_the_trimmer_collects_only_after_growth() -> None:
    trimmer = memory.Trimmer(growth=16 << 20)
    assert trimmer.step()  # the first look always collects
    trimmer.gained = 0
    assert not trimmer.step()  # nothing grew since, and the last time gave nothing back
    grown = [bytes(4096) + i.to_bytes(4, "big") for i in range(8_192)]  # 32 MiB
    assert trimmer.step()
    assert grown
    trimmer.gained = 0
    kept = grown[::64]
    del grown
    assert not trimmer.step()  # freed, but not grown: not worth a look yet...
    trimmer.gained = 32 << 20
    assert trimmer.step()  # ...unless the last look gave back
    assert trimmer.gained > 16 << 20, trimmer.gained  # this one did: the heap's free pages
    assert kept

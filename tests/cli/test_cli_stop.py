"""Ctrl-C in the command line's event loops (``scout_async._cli.stop``): it cancels the work,
which unwinds, and then raises ``KeyboardInterrupt`` on every Python (asyncio's own handling
raises ``CancelledError`` on 3.10); a long command's ``run_until_signalled`` takes it instead."""

from __future__ import annotations

import signal
import sys

import anyio
import anyio.lowlevel
import pytest

from scout_async._cli.stop import run_loop, run_until_signalled

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="raises SIGINT in the process")


def ctrl_c() -> None:
    signal.raise_signal(signal.SIGINT)


def test_ctrl_c_cancels_the_work_then_raises_keyboard_interrupt() -> None:
    steps: list[str] = []

    async def work() -> str:
        try:
            ctrl_c()
            await anyio.sleep(30)
            steps.append("slept")
        finally:
            steps.append("unwound")  # the client closes, the files are left as they are
        return "done"

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        run_loop(work)
    assert steps == ["unwound"]
    assert signal.getsignal(signal.SIGINT) is before


def test_without_ctrl_c_the_result_comes_back() -> None:
    async def work() -> int:
        await anyio.lowlevel.checkpoint()
        return 42

    assert run_loop(work) == 42


def test_a_second_ctrl_c_while_unwinding_raises_at_once() -> None:
    steps: list[str] = []

    async def work() -> None:
        try:
            ctrl_c()
            await anyio.sleep(30)
        finally:
            with anyio.CancelScope(shield=True):
                ctrl_c()  # the user does not want to wait for this
                await anyio.sleep(30)
                steps.append("waited")

    with pytest.raises(KeyboardInterrupt):
        run_loop(work)
    assert steps == []


def test_run_until_signalled_takes_ctrl_c_and_ignores_another() -> None:
    steps: list[str] = []

    async def work() -> str:
        try:
            ctrl_c()
            await anyio.sleep(30)
        finally:
            with anyio.CancelScope(shield=True):
                ctrl_c()  # ignored: the last write finishes
                await anyio.sleep(0.01)
                steps.append("wrote")
        return "done"

    async def command() -> tuple[str | None, str | None]:
        return await run_until_signalled(work)

    assert run_loop(command) == (None, "SIGINT")  # the command says where it stopped
    assert steps == ["wrote"]


def test_ctrl_c_is_left_alone_when_it_is_not_keyboard_interrupt() -> None:
    heard: list[int] = []

    async def work() -> str:
        ctrl_c()
        await anyio.sleep(0.01)
        return "done"

    before = signal.signal(signal.SIGINT, lambda number, frame: heard.append(number))
    try:
        assert run_loop(work) == "done"
    finally:
        signal.signal(signal.SIGINT, before)
    assert heard == [signal.SIGINT]

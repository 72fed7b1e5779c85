"""Route 3's stand-in server: the one ``make`` set up, announced once it has started and before the wait for it."""

from __future__ import annotations

import pytest

from helpers.routes import rented_gpu
from helpers.serving import DtypeChoice

READY = object()


class _Server:
    """Records the order of start, announce and wait, like a server that needs no process."""

    base_url = "http://127.0.0.1:1/v1"
    process = None

    def __init__(self, events: list[str], **_: object) -> None:
        self.events = events

    def start(self) -> _Server:
        self.events.append("start")
        return self

    def wait(self) -> object:
        self.events.append("wait")
        return READY


CHOICE = DtypeChoice("bfloat16", "measured", "this CPU", "2026-01-01T00:00:00Z")


@pytest.mark.parametrize(("choice", "announced"), [(CHOICE, rented_gpu.VLLM_CPU), (None, rented_gpu.LLAMA_CPP_SERVER)])
def test_the_stand_in_is_announced_after_it_starts_and_before_it_is_waited_for(monkeypatch, choice, announced):
    events: list[str] = []
    monkeypatch.setattr(rented_gpu, "RehearsalServer", lambda **kw: _Server(events, **kw))
    monkeypatch.setattr(rented_gpu, "LlamaCppServer", lambda **kw: _Server(events, **kw))
    monkeypatch.setattr(rented_gpu, "wait_until_ready", lambda *a, **kw: events.append("wait") or READY)
    server, ready = rented_gpu.start_rehearsal_server(choice, "m", "KEY", announce=events.append)
    assert events == ["start", announced, "wait"] and ready is READY and isinstance(server, _Server)


def test_the_stopwatch_counts_busy_time_apart_from_idle_time(monkeypatch):
    clock = iter([0.0, 1.0, 4.0, 10.0])
    monkeypatch.setattr(rented_gpu.time, "monotonic", lambda: next(clock))
    watch = rented_gpu.Stopwatch()
    with watch.busy():
        pass
    assert watch.busy_s == 3.0 and watch.idle_s == 7.0

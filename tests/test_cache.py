"""opforge's cache entries are published whole: a stale entry is replaced,
one that another run published meanwhile is kept (it may be in use), and a
failed provisioning leaves nothing behind."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from opforge.cache import locked, staged_folder


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".entry.") and p.name != ".entry.lock")


def test_a_stale_entry_is_replaced(tmp_path):
    dest = tmp_path / "entry"
    dest.mkdir()
    (dest / "old").write_text("stale")
    with staged_folder(dest) as stage:
        (stage / "new").write_text("fresh")
    assert [p.name for p in dest.iterdir()] == ["new"] and not leftovers(tmp_path)


def test_an_entry_another_run_published_meanwhile_is_kept(tmp_path):
    dest = tmp_path / "entry"
    with staged_folder(dest) as stage:
        (stage / "mine").write_text("1")
        dest.mkdir()  # the other run finished first, and may be using it now
        (dest / "theirs").write_text("2")
    assert [p.name for p in dest.iterdir()] == ["theirs"] and not leftovers(tmp_path)


def test_a_stale_entry_another_run_replaced_meanwhile_is_kept(tmp_path):
    """Two runs both find a stale entry; the later one finishes first. The
    earlier one must not delete what the later one published."""
    dest = tmp_path / "entry"
    dest.mkdir()
    (dest / "old").write_text("stale")
    with staged_folder(dest) as first:
        (first / "first").write_text("1")
        with staged_folder(dest) as second:
            (second / "second").write_text("2")
        in_use = (dest / "second").open()  # the other run compiles with it now
    assert [p.name for p in dest.iterdir()] == ["second"] and not leftovers(tmp_path)
    assert in_use.read() == "2"


def test_a_failed_provisioning_leaves_nothing(tmp_path):
    dest = tmp_path / "entry"
    with pytest.raises(RuntimeError):
        with staged_folder(dest) as stage:
            (stage / "half").write_text("written")
            raise RuntimeError("download failed")
    assert not dest.exists() and not leftovers(tmp_path)


def _hold(path, holding, release):
    with locked(path):
        holding.set()
        release.wait(60)


def _take(path, order):
    with locked(path):
        order.append("this run")


def test_two_runs_take_turns(tmp_path):
    ctx = multiprocessing.get_context("fork")
    holding, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold, args=(tmp_path / "entry", holding, release))
    other.start()
    assert holding.wait(60)
    order = []
    waiter = threading.Thread(target=_take, args=(tmp_path / "entry", order), daemon=True)
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # still waiting: the other run holds the lock
    order.append("other run done")
    release.set()
    other.join(60)
    waiter.join(60)
    assert order == ["other run done", "this run"]


def test_a_thread_holding_the_lock_goes_on_and_another_waits(tmp_path):
    """Publishing under the lock its caller holds (tests/tritonserver.py
    builds its venv so) must not wait for itself."""
    dest = tmp_path / "entry"
    done = []

    def nested():
        with locked(dest), locked(dest):
            with staged_folder(dest) as stage:  # publishes under locked(dest) too
                (stage / "made").write_text("yes")
            done.append("nested")

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(60)
    assert done == ["nested"] and (dest / "made").read_text() == "yes"

    holding, release, order = threading.Event(), threading.Event(), []

    def hold():
        with locked(dest):
            holding.set()
            release.wait(60)
            order.append("holder done")

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert holding.wait(60)
    waiter = threading.Thread(target=_take, args=(dest, order), daemon=True)
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # another thread of this process waits its turn
    release.set()
    holder.join(60)
    waiter.join(60)
    assert order == ["holder done", "this run"]

"""opforge.files: how release folders are swapped in (real file systems, no
mocks of the renames themselves)."""

from __future__ import annotations

import errno
import os

import pytest

from opforge import files


def folder(path, text):
    path.mkdir()
    (path / "manifest.json").write_text(text)
    return path


def test_replace_folder_swaps_and_keeps_the_old_one(tmp_path):
    new, dest, keep = folder(tmp_path / "new", "new"), folder(tmp_path / "dest", "old"), tmp_path / "keep"
    dest_inode = dest.stat().st_ino
    files.replace_folder(new, dest, keep=keep)
    assert (dest / "manifest.json").read_text() == "new"
    assert (keep / "manifest.json").read_text() == "old" and keep.stat().st_ino == dest_inode
    assert not new.exists()


def test_replace_folder_into_a_free_place(tmp_path):
    new, dest = folder(tmp_path / "new", "new"), tmp_path / "dest"
    files.replace_folder(new, dest, keep=tmp_path / "keep")
    assert (dest / "manifest.json").read_text() == "new" and not (tmp_path / "keep").exists()


def test_the_exchange_is_one_step_where_linux_offers_it(tmp_path):
    a, b = folder(tmp_path / "a", "a"), folder(tmp_path / "b", "b")
    if not files._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not offered by this C library or file system")
    assert (a / "manifest.json").read_text() == "b" and (b / "manifest.json").read_text() == "a"


def test_the_fallback_puts_the_old_folder_back_when_the_new_one_cannot_go_in(tmp_path, monkeypatch):
    # Without the exchange, dest is renamed away first; if the new folder then
    # cannot take its place (here: it vanished), dest must come back.
    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    dest, keep = folder(tmp_path / "dest", "old"), tmp_path / "keep"
    with pytest.raises(FileNotFoundError):
        files.replace_folder(tmp_path / "gone", dest, keep=keep)
    assert (dest / "manifest.json").read_text() == "old" and not keep.exists()


def test_an_exchange_error_other_than_unsupported_is_raised(tmp_path):
    dest = folder(tmp_path / "dest", "old")
    with pytest.raises(OSError) as e:
        files._exchange(tmp_path / "gone", dest)
    assert e.value.errno == errno.ENOENT
    assert (dest / "manifest.json").read_text() == "old"


def test_tree_sha256_covers_names_and_contents_but_not_caches(tmp_path):
    (tmp_path / "op").mkdir()
    (tmp_path / "op" / "op.h").write_text("spec")
    (tmp_path / "ops.cmake").write_text("include(op/op.cmake)")
    first = files.tree_sha256(tmp_path)
    (tmp_path / "op" / "__pycache__").mkdir()
    (tmp_path / "op" / "__pycache__" / "reference.pyc").write_bytes(b"\0")
    (tmp_path / ".op.h.swp").write_text("editor")
    assert files.tree_sha256(tmp_path) == first
    (tmp_path / "op" / "op.h").write_text("spec2")
    assert files.tree_sha256(tmp_path) != first
    (tmp_path / "op" / "op.h").write_text("spec")
    assert files.tree_sha256(tmp_path) == first
    (tmp_path / "op" / "op.h").rename(tmp_path / "op" / "op2.h")
    assert files.tree_sha256(tmp_path) != first
    assert files.tree_sha256(tmp_path, only=("ops.cmake",)) != files.tree_sha256(tmp_path)
    # An entry the tree does not have (a source copy without docker/) is no error.
    assert files.tree_sha256(tmp_path, only=("ops.cmake", "docker")) == files.tree_sha256(tmp_path, only=("ops.cmake",))


def test_tree_sha256_follows_links_as_a_compiler_does(tmp_path):
    ops, elsewhere = tmp_path / "ops", tmp_path / "elsewhere" / "op2"
    ops.mkdir()
    elsewhere.mkdir(parents=True)
    (elsewhere / "op2.h").write_text("spec")
    (ops / "op2").symlink_to(elsewhere)
    (ops / "loop").symlink_to(ops)  # a link back up the tree ends
    first = files.tree_sha256(ops)
    (elsewhere / "op2.h").write_text("spec2")
    assert files.tree_sha256(ops) != first
    second = files.tree_sha256(ops)
    # Left behind by tools: a link into a removed build folder, a socket. They are not sources.
    (ops / "compile_commands.json").symlink_to(tmp_path / "build" / "compile_commands.json")
    os.mkfifo(ops / "pipe")
    assert files.tree_sha256(ops) != second  # the dangling link counts by name, the pipe not at all
    (ops / "compile_commands.json").unlink()
    assert files.tree_sha256(ops) == second

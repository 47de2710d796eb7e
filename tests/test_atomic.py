import os
import stat

import pytest

from nolabel._atomic import atomic_write, atomic_write_text


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "out.png") as handle:
            handle.write(b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.png").stat().st_mode) == 0o644


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_text_is_written_as_utf8_and_replaces_the_old_file(tmp_path):
    target = tmp_path / "results.md"
    target.write_text("old table")
    assert atomic_write_text(target, "| ACC ± sd |\n") == target
    assert target.read_text(encoding="utf-8") == "| ACC ± sd |\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.md"]

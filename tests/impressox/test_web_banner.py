"""What `impressox up` says about the web page: where it is, or why it is not built."""

from __future__ import annotations

from pathlib import Path

import pytest

from impressox.settings import Settings
from impressox.supervisor import Supervisor

API = "http://127.0.0.1:8000"


def test_a_built_page_is_announced_at_the_root(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<!doctype html>")
    supervisor = Supervisor(Settings(data_dir=tmp_path, web_dir=tmp_path / "dist"))
    assert supervisor._web_note(API) == f"{API}/   (sign in with a key below)"


def test_a_missing_page_is_announced_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm either: the directory's reason wins
    supervisor = Supervisor(Settings(data_dir=tmp_path, web_dir=tmp_path / "nothing"))
    note = supervisor._web_note(API)
    assert note.startswith("web page not built: IMPRESSOX_WEB_DIR has no index.html")

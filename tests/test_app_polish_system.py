"""`make run`'s check for the system libraries Qt's xcb plugin needs (issue 16, item 1)."""

from __future__ import annotations

from app import system_check


def test_every_missing_package_is_named_in_one_install_line(monkeypatch, capsys):
    monkeypatch.setattr(system_check, "library_loads", lambda soname: soname == "libxcb-icccm.so.4")
    monkeypatch.setenv("QT_QPA_PLATFORM", "")
    monkeypatch.setattr(system_check.sys, "platform", "linux")
    assert system_check.main() == 1
    message = capsys.readouterr().err
    assert "sudo apt-get install libxcb-cursor0 libxcb-keysyms1\n" in message
    assert "libxcb-icccm4" not in message


def test_nothing_to_say_when_the_libraries_load_or_xcb_is_not_used(monkeypatch, capsys):
    monkeypatch.setattr(system_check, "library_loads", lambda soname: True)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert system_check.main() == 0
    assert system_check.uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux") is False
    assert system_check.uses_xcb({}, "darwin") is False
    assert system_check.uses_xcb({}, "linux") is True
    assert capsys.readouterr().err == ""


def test_the_readme_lists_the_packages_the_check_knows():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert system_check.install_hint(list(system_check.XCB_PACKAGES)) in readme

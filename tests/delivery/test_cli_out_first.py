"""``oip``, ``atlas`` and ``slides`` check ``--out`` before any work (issue 21): a bad one ends at
once with one line; a missing folder is made first, so the write cannot fail after the work."""

from __future__ import annotations

import pytest

from cnn_widgets.delivery.cli import main


@pytest.mark.parametrize("command", [["oip", "--map", "0"], ["atlas"], ["slides", "--no-execute"]])
@pytest.mark.parametrize("where, message", [("under_a_file", "is a file, not a folder"),
                                            ("wrong_ending", "--out must end in"), ("a_folder", "is a folder")])
def test_a_bad_out_ends_before_any_work(tmp_path, capsys, monkeypatch, command, where, message):
    import cnn_widgets.delivery.slides as slides
    import cnn_widgets.methods.oip as oip

    for module, name in ((oip, "optimize"), (oip, "series"), (slides, "build_slides")):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("the work started before --out was checked"))
    (tmp_path / "afile").write_text("x")
    suffix = ".html" if command[0] == "slides" else ".png"
    (tmp_path / f"folder{suffix}").mkdir()
    out = {"under_a_file": tmp_path / "afile" / f"x{suffix}", "wrong_ending": tmp_path / "x.txt",
           "a_folder": tmp_path / f"folder{suffix}"}[where]
    assert main([*command, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err


def test_a_missing_folder_is_made_before_the_work(tmp_path):
    out = tmp_path / "new" / "deeper" / "atlas.png"
    assert main(["atlas", "--layer", "conv1", "--steps", "1", "--out", str(out)]) == 0
    assert out.is_file() and out.read_bytes().startswith(b"\x89PNG")

import io

import pytest

from todo.cli import main


def run(path, *args):
    out = io.StringIO()
    code = main(["--file", str(path), *args], out=out)
    return code, out.getvalue()


def test_full_session(tmp_path):
    """Add three, finish one, list open ones, then stats."""
    path = tmp_path / "t.json"
    assert run(path, "add", "write", "report", "-p", "high") == (0, "added 1: write report\n")
    run(path, "add", "water", "plants")
    run(path, "add", "nap", "--priority", "low")
    assert run(path, "done", "2") == (0, "done 2\n")
    code, listing = run(path, "list")
    assert listing.splitlines() == ["  1 [ ] ! write report", "  3 [ ]   nap"]
    code, listing = run(path, "list", "--all")
    assert len(listing.splitlines()) == 3
    assert run(path, "stats") == (0, "1/3 done (33%), 2 open\n")


def test_empty_list_message(tmp_path):
    """Listing an empty list says so."""
    assert run(tmp_path / "t.json", "list") == (0, "nothing to do\n")


def test_unknown_id_is_an_error(tmp_path):
    """Removing an unknown id prints an error and returns 1."""
    code, out = run(tmp_path / "t.json", "rm", "9")
    assert code == 1 and "no to-do with id 9" in out


def test_bad_priority_rejected(tmp_path):
    """argparse refuses an unknown priority."""
    with pytest.raises(SystemExit):
        run(tmp_path / "t.json", "add", "x", "-p", "urgent")

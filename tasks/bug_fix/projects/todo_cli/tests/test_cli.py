import io

from todo.cli import main


def test_add_then_list(tmp_path):
    path = str(tmp_path / "t.json")
    main(["--file", path, "add", "buy", "milk"], out=io.StringIO())
    out = io.StringIO()
    main(["--file", path, "list"], out=out)
    assert "buy milk" in out.getvalue()

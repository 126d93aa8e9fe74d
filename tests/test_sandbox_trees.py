"""llmgym.sandbox.trees: walking and deleting trees that agent code built to break walkers."""

from __future__ import annotations

import os

from llmgym.sandbox import remove_tree, scratch_dir, walk_tree


def hostile_tree(top: str, depth: int = 5_000) -> None:
    """Nested past PATH_MAX, with locked folders, links out, a FIFO and undecodable names."""
    os.symlink("/", os.path.join(top, "rootlink"))
    home = os.open(".", os.O_RDONLY)
    try:
        os.chdir(top)
        for level in range(depth):
            os.mkdir("level")
            os.chdir("level")
            if level % 1_000 == 0:
                os.symlink("/etc/passwd", "passwd")
                os.mkfifo("fifo")
                open(b"bad\xffname", "w").close()
                os.mkdir("locked")
                os.chmod("locked", 0)
        os.mkdir(".llmgym-rm-0")  # a name remove_tree might pick for its own moves
    finally:
        os.fchdir(home)
        os.close(home)


def test_remove_tree_deletes_what_recursive_walkers_cannot(tmp_path):
    top = tmp_path / "top"
    top.mkdir()
    hostile_tree(str(top))
    modes = {p: os.stat(p).st_mode for p in ("/", "/etc/passwd")}
    assert remove_tree(top)
    assert not top.exists()
    assert {p: os.stat(p).st_mode for p in modes} == modes  # links deleted, never followed
    assert remove_tree(top)  # already gone: nothing to do


def test_scratch_dir_never_raises_on_what_was_left_in_it():
    with scratch_dir("llmgym-test-") as path:
        hostile_tree(str(path), depth=2_000)
    assert not path.exists()


def test_walk_tree_matches_os_walk_on_an_ordinary_tree(tmp_path):
    for rel in ["b/x.py", "a/z/y.py", "a/w.py", "top.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    ours = [
        (top, [d.name for d in dirs], [f.name for f in others])
        for top, dirs, others in walk_tree(tmp_path)
    ]
    theirs = []
    for top, dirs, files in os.walk(tmp_path):
        dirs.sort()
        links = [d for d in dirs if os.path.islink(os.path.join(top, d))]
        dirs[:] = [d for d in dirs if d not in links]  # walk_tree: a link is not a folder
        theirs.append((top, list(dirs), sorted(files + links)))
    assert ours == theirs


def test_walk_tree_goes_deeper_than_the_recursion_limit(tmp_path):
    home = os.open(".", os.O_RDONLY)
    try:
        os.chdir(tmp_path)
        for _ in range(1_500):  # "d/" * 1500: under PATH_MAX, over the recursion limit
            os.mkdir("d")
            os.chdir("d")
    finally:
        os.fchdir(home)
        os.close(home)
    assert sum(1 for _ in walk_tree(tmp_path)) == 1_501
    assert remove_tree(tmp_path / "d")

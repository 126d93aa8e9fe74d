"""``llmgym new-env NAME``: write a complete, working environment package to start from.

The package it writes registers ``<snake>/<Name>-v0`` through the ``llmgym.envs`` entry point,
ships a frozen test split with its hash recorded, and passes ``llmgym check`` as written.
"""

from __future__ import annotations

import importlib
import re
import sys
from importlib import resources
from pathlib import Path
from string import Template

from llmgym.tasks import make_test_split, write_split

TEMPLATE_PACKAGE = "llmgym.templates.new_env"
NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]+$")


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _render(template: str, values: dict[str, str]) -> str:
    text = (resources.files(TEMPLATE_PACKAGE) / template).read_text()
    return Template(text).substitute(values)


def create_env(name: str, directory: Path, test_tasks: int = 60) -> Path:
    """Write the package for environment ``name`` (CamelCase) under ``directory``; return its root."""
    if not NAME_RE.match(name):
        raise ValueError(
            f"the environment name must be CamelCase letters and digits, like 'ShelfSort'; got {name!r}"
        )
    snake = snake_case(name)
    package = f"llmgym_{snake}"
    root = directory / f"llmgym-{snake.replace('_', '-')}"
    if root.exists():
        raise FileExistsError(f"{root} already exists; pick another name or directory")
    values = {
        "name": name,
        "snake": snake,
        "package": package,
        "dist": root.name,
        "sha256": "PENDING",
    }
    pkg = root / package
    data = pkg / "task_data"
    (data / snake).mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(_render("pyproject.toml.txt", values))
    (root / "README.md").write_text(_render("README.md.txt", values))
    (pkg / "__init__.py").write_text(f'"""{name}: an llmgym environment."""\n')
    (pkg / "registration.py").write_text(_render("registration.py.txt", values))
    (data / "__init__.py").write_text('"""Fixed task splits (package data)."""\n')
    (data / snake / "__init__.py").write_text(f'"""The frozen {snake} splits."""\n')
    (root / "tests" / f"test_{snake}.py").write_text(_render("test_env.py.txt", values))
    env_file = pkg / "env.py"
    env_file.write_text(_render("env.py.txt", values))

    # freeze the test split with the generator just written, then record its hash
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(f"{package}.env")
        env_class = getattr(module, f"{name}Env")
        tasks = make_test_split(module.generate_task, env_class.difficulties, test_tasks)
        _, sha = write_split(snake, "test", tasks, root=data)
    finally:
        sys.path.remove(str(root))
        for mod in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[mod]
    env_file.write_text(
        env_file.read_text().replace(
            'test_split_sha256 = "PENDING"', f'test_split_sha256 = "{sha}"'
        )
    )
    return root

"""Package list for setuptools: the top-level folders that install under ``llmgym.*``.

pyproject.toml maps ``environments/`` -> ``llmgym.environments`` (and likewise ``trainers``,
``tasks``); setuptools' automatic discovery would also install them as top-level packages,
so the package list is computed here instead.
"""

from setuptools import find_packages, setup

MAPPED = {
    "environments": "llmgym.environments",
    "trainers": "llmgym.trainers",
    "tasks": "llmgym.task_data",
}

packages = ["llmgym", *(f"llmgym.{p}" for p in find_packages("llmgym"))]
for folder, name in MAPPED.items():
    packages += [name, *(f"{name}.{p}" for p in find_packages(folder))]
package_dir = {"llmgym": "llmgym", **{name: folder for folder, name in MAPPED.items()}}

setup(packages=packages, package_dir=package_dir)

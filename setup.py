"""Only what pyproject.toml cannot say: ship the top-level ``resources/`` folder inside the package as
``photosearch/resources`` (setuptools' ``packages.find`` cannot add a package from another folder).
Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["photosearch", "photosearch.*"]) + ["photosearch.resources"],
    package_dir={"photosearch.resources": "resources"},
)

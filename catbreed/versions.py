"""Installed versions of the libraries catbreed runs on, read from package metadata.

Asking TensorFlow itself (`tf.__version__`) would import it: seconds that training and
prediction, which never use it, should not pay.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

# Library -> the distributions that may provide it (TensorFlow's CPU-only wheel has its own name;
# requirements.txt installs that one where it exists).
DISTRIBUTIONS = {
    "tensorflow": ("tensorflow-cpu", "tensorflow"),
    "keras": ("keras",),
    "ai-edge-litert": ("ai-edge-litert",),
    "scikit-learn": ("scikit-learn",),
    "numpy": ("numpy",),
    "pillow": ("pillow",),
}


def installed_version(library: str) -> str:
    """The installed version of `library` (a key of DISTRIBUTIONS); "" if it is not installed."""
    for distribution in DISTRIBUTIONS[library]:
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return ""


def library_versions() -> dict[str, str]:
    """Python's version and every library's: what a model's metadata records it was made with."""
    return {"python": platform.python_version(), **{name: installed_version(name) for name in DISTRIBUTIONS}}

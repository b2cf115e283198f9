"""Digests of the code a published quarter depends on: reuse is keyed on content, never on a version string."""

from __future__ import annotations

import hashlib
from importlib import metadata
from importlib.resources import files
from pathlib import Path

from flows.locations import templates_dir

_LIBRARIES = ("pandas", "numpy", "pyarrow", "openpyxl", "python-calamine", "jinja2", "weasyprint", "babel",
              "pydyf", "tinycss2", "jieba", "snowballstemmer")
"""Libraries whose behaviour reaches the numbers or the pages: an upgrade re-checks everything."""
_RENDER_LIBRARIES = ("jinja2", "weasyprint", "babel", "pydyf", "tinycss2")
_SUFFIXES = (".py", ".html", ".css", ".js", ".yaml", ".txt", ".yml")


def _tree_digest(h: hashlib._Hash, root: Path, label: str) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _SUFFIXES
                       and "__pycache__" not in p.parts):
        h.update(f"{label}/{path.relative_to(root).as_posix()}\0".encode())
        h.update(path.read_bytes())
        h.update(b"\0")


def _index_script(h: hashlib._Hash) -> None:
    """A templates folder without ``index.js`` lays its index out with the built-in script: it counts too."""
    if not (templates_dir() / "index.js").is_file():
        h.update(b"templates/index.js (built in)\0" + (_package_dir("report_templates") / "index.js").read_bytes())


def _versions(h: hashlib._Hash, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            h.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=none\0".encode())


def _package_dir(name: str) -> Path:
    return Path(str(files(name)))


def code_digest() -> str:
    """sha256 over the package's own source (flows, transforms), the templates in use and the libraries it
    computes with (about 20 ms: computed afresh by every run)."""
    h = hashlib.sha256()
    for package in ("transforms", "flows"):
        _tree_digest(h, _package_dir(package), package)
    _tree_digest(h, templates_dir(), "templates")
    _index_script(h)
    _versions(h, _LIBRARIES)
    return h.hexdigest()


def render_digest() -> str:
    """What lays a view model out as HTML and PDF: templates, CSS, labels, the formatting code, the renderer."""
    h = hashlib.sha256()
    _tree_digest(h, templates_dir(), "templates")
    _index_script(h)
    h.update((_package_dir("flows") / "render.py").read_bytes())
    _versions(h, _RENDER_LIBRARIES)
    return h.hexdigest()

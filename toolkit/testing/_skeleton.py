"""``sigbench plugins new``: write a ready-to-install plugin package from the template shipped with sigbench.

The template lives in ``sigbench/testing/template/`` (package data): every ``*.tmpl`` file is copied
with ``{{placeholders}}`` filled in and the suffix dropped; the ``package`` folder is renamed to the
import package.
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import tempfile
from pathlib import Path

from sigbench.errors import ValidationError, WriteError

__all__ = ["TEMPLATE_DIR", "new_plugin", "plugin_names"]

#: the template folder inside the installed sigbench
TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


def plugin_names(name: str) -> dict[str, str]:
    """The names derived from ``name``: distribution, import package, processor, class, entry point.

    Parameters
    ----------
    name : str
        Lowercase letters and digits, words joined by ``-`` or ``_``, starting with a letter; a leading
        ``sigbench-`` is dropped (``"kalman"``, ``"my-filter"``, ``"sigbench-tcn"``).

    Returns
    -------
    dict
        ``name``, ``dist_name`` (``sigbench-my-filter``), ``package`` (``sigbench_my_filter``),
        ``processor_name`` and ``plugin_name`` (``my-filter``), ``class_name`` (``MyFilter``).

    Raises
    ------
    ValidationError
        ``name`` does not have that form.

    Examples
    --------
    >>> plugin_names("my_filter")["dist_name"], plugin_names("my_filter")["class_name"]
    ('sigbench-my-filter', 'MyFilter')
    """
    raw = name
    for prefix in ("sigbench-", "sigbench_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if not _NAME_RE.match(name):
        raise ValidationError(
            "expected a plugin name of lowercase letters and digits, words joined by '-' or '_', starting with "
            f"a letter (e.g. kalman, my-filter); received: name={raw!r}"
        )
    hyphenated = name.replace("_", "-")
    words = hyphenated.split("-")
    class_name = "".join(w[:1].upper() + w[1:] for w in words)
    if keyword.iskeyword(class_name):  # cannot happen with a capitalised first letter; kept for clarity
        class_name += "Processor"
    return {
        "name": name,
        "dist_name": f"sigbench-{hyphenated}",
        "package": "sigbench_" + hyphenated.replace("-", "_"),
        "processor_name": hyphenated,
        "plugin_name": hyphenated,
        "class_name": class_name,
    }


def _render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = re.search(r"\{\{\w+\}\}", text)
    if left:  # a placeholder the template uses but nobody fills: a bug in sigbench, not the user's error
        raise RuntimeError(f"template placeholder {left.group(0)} has no value")
    return text


def new_plugin(name: str, directory: str | os.PathLike[str] = ".") -> Path:
    """Create the plugin package ``sigbench-<name>`` inside ``directory``; return its path.

    The package holds ``pyproject.toml`` (entry point in group ``sigbench``), the import package with one
    DSP processor and its ``register_processors`` hookimpl, tests using the conformance harness, and a
    README. The files are written in a temporary folder next to the target and moved into place at the
    end, so a failure leaves nothing behind.

    Parameters
    ----------
    name : str
        See :func:`plugin_names`.
    directory : path, default "."
        Parent folder (created if missing).

    Returns
    -------
    Path
        ``directory / "sigbench-<name>"``.

    Raises
    ------
    ValidationError
        An invalid ``name``.
    WriteError
        The target already exists (nothing is overwritten), or it cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from sigbench.testing import new_plugin
    >>> path = new_plugin("my-filter", tempfile.mkdtemp())
    >>> sorted(p.name for p in path.iterdir())
    ['README.md', 'pyproject.toml', 'sigbench_my_filter', 'tests']
    """
    from sigbench import __version__

    values = plugin_names(name)
    values["sigbench_version"] = __version__
    parent = Path(directory)
    target = parent / values["dist_name"]
    if target.exists() or target.is_symlink():
        raise WriteError(f"{target} already exists; nothing was written (choose another name or -o DIR)")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{values['dist_name']}-", dir=parent))
    except OSError as exc:
        raise WriteError(f"cannot write into {parent}: {exc.strerror or exc}") from None
    try:
        for source in sorted(TEMPLATE_DIR.rglob("*.tmpl")):
            rel = source.relative_to(TEMPLATE_DIR).with_suffix("")
            parts = [values["package"] if part == "package" else part for part in rel.parts]
            dest = staging.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(_render(source.read_text(encoding="utf-8"), values), encoding="utf-8")
        if target.exists():
            raise WriteError(f"{target} appeared while writing; nothing was overwritten")
        os.rename(staging, target)
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target

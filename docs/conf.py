"""Sphinx configuration: the guide, the API reference from the docstrings, the gallery
(``examples/plot_*.py``, executed at build time by sphinx-gallery) and the benchmark tables
(``benchmarks/results/*.md``).

Build: ``.venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html`` (``-W``: a
warning, a broken reference or a failing example fails the build).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

# One thread: on 2 shared cores, two torch threads per process slowed small networks 30x
# when the other core was busy; one thread is also what makes the figures reproducible.
_THREADS = os.environ.get("NOLABEL_DOCS_THREADS", "1")
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "NUMBA_NUM_THREADS"):
    os.environ[_variable] = _THREADS
os.environ.setdefault("MPLBACKEND", "Agg")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

import nolabel  # noqa: E402
from nolabel import registry  # noqa: E402

torch.set_num_threads(int(_THREADS))

project = "nolabel"
author = "the nolabel developers"
copyright = "the nolabel developers, MIT licence"
version = release = nolabel.__version__

extensions = ["sphinx.ext.autodoc", "sphinx_gallery.gen_gallery", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples/README.rst", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.codeobj.json", "sg_execution_times.rst"]
html_theme = "furo"
html_title = f"nolabel {release}"
html_static_path: list[str] = []
templates_path: list[str] = []
default_role = "literal"  # `x` in guide pages reads as code, as in the docstrings' ``x``
myst_heading_anchors = 3
suppress_warnings = ["config.cache"]  # sphinx-gallery's callable settings are not picklable

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_inherit_docstrings = False  # scikit-learn's mixin docstrings point into its own site
autodoc_default_options = {"members": True, "inherited-members": True,
                           "show-inheritance": False}

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    # NOLABEL_DOCS_EXAMPLES=regex runs only the matching examples (the others are listed,
    # not executed): for working on one example.
    "filename_pattern": os.environ.get("NOLABEL_DOCS_EXAMPLES", r"plot_"),
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "capture_repr": (),  # print() output only, not the repr of a block's last expression
    "show_memory": False,
    "write_computation_times": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
}


# --- docstrings ------------------------------------------------------------------------
# nolabel's docstrings are reST with numpy-like sections whose entries are
# "name : what it is" (no types). A section title inside a docstring is an error in reST,
# and numpydoc/napoleon would read the description as a type, so the sections become a
# rubric and a definition list: the name as literal text, the description under it.
# Plain-text mentions of fitted attributes (``labels_`` without the backquotes) would be
# reST references to undefined targets: their underscore is escaped outside literals.
_ATTRIBUTE = re.compile(r"(?<![\w`\\])([A-Za-z]\w*)_(?![\w`])")
_ENTRY = re.compile(r"^([A-Za-z_*][\w*, ]*?) : (.*)$")


def _definition_lists(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_section = False
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"-{3,}", following.strip()) and not line[0].isspace():
            out += ["", f".. rubric:: {line.strip()}", ""]
            in_section = True
            i += 2
            continue
        entry = _ENTRY.match(line) if in_section else None
        if entry:
            names = ", ".join(f"``{name.strip()}``" for name in entry.group(1).split(","))
            if out and out[-1].strip():
                out.append("")
            out += [names, f"    {entry.group(2)}"]
        elif in_section and line and not line[0].isspace():
            in_section = line.strip() != ""  # a plain paragraph ends the section
            out += ["", line]
        else:
            out.append(line)
        i += 1
    return out


def _escape_attributes(line: str) -> str:
    parts = re.split(r"(``.*?``|`[^`]*`_?)", line)  # literals and roles stay as written
    return "".join(part if i % 2 else _ATTRIBUTE.sub(r"\1\\_", part)
                   for i, part in enumerate(parts))


def _process_docstring(app, what, name, obj, options, lines):
    lines[:] = [_escape_attributes(line) for line in _definition_lists(list(lines))]


def _skip_member(app, what, name, obj, skip, options):
    """Document what nolabel defines: scikit-learn's inherited helpers (get_params,
    set_output...) are documented by scikit-learn, with references only its site resolves."""
    if skip or name.startswith("_"):
        return True
    module = getattr(obj, "__module__", None) or getattr(
        getattr(obj, "fget", None), "__module__", None)
    if module is not None and not module.startswith("nolabel"):
        return True
    return None


# --- generated pages ------------------------------------------------------------------
_ERRORS = [n for n in nolabel.__all__ if n.endswith("Error")]
_DATA = ["load", "Dataset", "load_model"]


def _api_page() -> str:
    """docs/api.rst: every name of ``nolabel.__all__``, estimators grouped by package."""
    estimators = {entry.cls.__name__: entry for entry in registry.entries()}
    groups: dict[str, list[str]] = {}
    for name in nolabel.__all__:
        if name in estimators:
            package = estimators[name].cls.__module__.split(".")[1]
            groups.setdefault(package, []).append(name)
    titles = {"classical": "Classical estimators (``nolabel.classical``)",
              "models": "Neural models (``nolabel.models``)",
              "clustering": "Deep clustering (``nolabel.clustering``)"}
    text = ["API reference", "=============", "",
            "Every public name of ``nolabel`` (``nolabel.__all__``), from its docstring. "
            "Estimators also list their registry name, the one the command line takes.", "",
            ".. currentmodule:: nolabel", ""]
    for package in ("classical", "models", "clustering"):
        title = titles[package]
        text += [title, "-" * len(title), ""]
        for name in sorted(groups.pop(package, []), key=str.lower):
            entry = estimators[name]
            text += [f".. autoclass:: {name}", "", f"   Command line: ``nolabel fit "
                     f"{entry.name}``. {entry.description}.", ""]
    assert not groups, f"estimators of an unknown package: {groups}"
    text += ["Data and saved models", "---------------------", ""]
    for name in _DATA:
        kind = "autoclass" if isinstance(getattr(nolabel, name), type) else "autofunction"
        text += [f".. {kind}:: {name}", ""]
    text += ["Errors", "------", "", "Every error nolabel raises on purpose is a "
             ":class:`NolabelError`; each subclass is also the matching built-in "
             "(``ValueError``...), so existing ``except`` clauses keep working.", ""]
    for name in sorted(_ERRORS):
        text += [f".. autoexception:: {name}", "   :members:", ""]
    text += ["Version", "-------", "", ".. py:data:: __version__", "",
             f"   The installed version, ``{nolabel.__version__}``.", ""]
    documented = set(_ERRORS) | set(_DATA) | set(estimators) | {"__version__"}
    missing = set(nolabel.__all__) - documented
    assert not missing, f"add these public names to the API page: {sorted(missing)}"
    return "\n".join(text)


_BENCHMARK_ORDER = ["deep_clustering", "deep_clustering_papers", "classical",
                    "clustbench_quality", "anomaly", "representation", "generation",
                    "likelihood", "distributed", "foundation"]


def _benchmark_pages() -> None:
    """docs/benchmarks/: one page per benchmarks/results/*.md, with its figures."""
    results = ROOT / "benchmarks" / "results"
    out = HERE / "benchmarks"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    names = sorted((p.stem for p in results.glob("*.md")),
                   key=lambda n: (_BENCHMARK_ORDER.index(n) if n in _BENCHMARK_ORDER else 99, n))
    for name in names:
        text = (results / f"{name}.md").read_text(encoding="utf-8")
        shown = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))
        figures = sorted(p.name for p in results.glob(f"{name}_*.png"))
        for png in set(figures) | shown:
            if (results / png).is_file():
                shutil.copy2(results / png, out / png)
        extra = [png for png in figures if png not in shown]
        if extra:
            text += "\n\n## Figures\n\n" + "\n\n".join(
                f"![{png[:-4].replace('_', ' ')}]({png})" for png in extra) + "\n"
        script = next((stem for stem in (name, name.rsplit("_", 1)[0])  # _papers: a schedule
                       if (ROOT / "benchmarks" / f"{stem}.py").is_file()), name)
        source = f"`benchmarks/results/{name}.md`, written by `benchmarks/{script}.py`"
        text += f"\n\n*From {source}; rerun the script to refresh it.*\n"
        (out / f"{name}.md").write_text(text, encoding="utf-8")
    index = ["Benchmarks", "==========", "",
             "The tables the benchmark scripts in ``benchmarks/`` write, against "
             "scikit-learn, pythae and the published numbers; each page says how it was "
             "run. They are copied here at build time from ``benchmarks/results/``.", "",
             ".. toctree::", "   :maxdepth: 1", ""] + [f"   {name}" for name in names]
    (out / "index.rst").write_text("\n".join(index) + "\n", encoding="utf-8")


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app):
    _write_if_changed(HERE / "api.rst", _api_page())
    _benchmark_pages()
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("autodoc-skip-member", _skip_member)


# A reference to a public name that does not exist (``:class:`nolabel.KMeens```) fails the
# build; names outside nolabel's public API (numpy, torch, typing, private modules in
# docstrings) are left as text.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!nolabel\.\w+$).*")]

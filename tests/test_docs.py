"""The docs are tested: every Python example in docs/*.md and README.md runs, and every
docstring example in npconv runs as a doctest.

How a page runs
---------------
* Each page is one test, in a fresh namespace, with ``npconv.manual_seed(0)`` and the current
  directory set to a temporary one (so examples that save checkpoints leave nothing behind).
* Its fenced blocks run in order, so a later block sees what an earlier one defined:
  - ```` ```python ```` (or ``py``) blocks are executed;
  - ```` ```pycon ```` blocks are doctests (``>>> code`` then the expected output), run in the
    same namespace, so the output shown on the page is checked;
  - any other language (``bash``, ``text``) is not run.
* A block is skipped only when it genuinely cannot run in a test (training for minutes, a GPU):
  put ``<!-- skip -->`` on the line before its fence (or write the fence as
  ```` ```{.python .no-run} ````). Skips are reported in the test's output.
* A failure names the page and the line of the Markdown file, because each block is compiled
  with its real line numbers.
"""
import contextlib
import doctest
import importlib
import io
import pkgutil
import re
import traceback
from pathlib import Path

import pytest

import npconv

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

PAGES = sorted(DOCS.rglob("*.md")) + ([ROOT / "README.md"] if (ROOT / "README.md").exists()
                                      else [])

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_SKIP_COMMENT = re.compile(r"^\s*<!--\s*(skip|no-run)\b.*-->\s*$")
_RUN_LANGS = {"python": "python", "py": "python", "python3": "python", "pycon": "pycon"}


class Block:
    def __init__(self, lang, code, line, skip):
        self.lang, self.code, self.line, self.skip = lang, code, line, skip

    def __repr__(self):
        return "Block(%s, line %d%s)" % (self.lang, self.line, ", skip" if self.skip else "")


def _lang_of(info):
    """('python', skip?) from a fence's info string: 'python', 'py', '{.python .no-run}'."""
    info = info.strip()
    if info.startswith("{") and info.endswith("}"):
        words = [w.lstrip(".") for w in info[1:-1].split()]
    else:
        words = info.split()
    if not words:
        return None, False
    lang = _RUN_LANGS.get(words[0].lower())
    skip = any(w in ("no-run", "norun", "skip") for w in words[1:])
    return lang, skip


def parse_blocks(text):
    """Every fenced code block of a Markdown text, with the 1-based line of its first code
    line and whether it is marked to be skipped."""
    blocks = []
    lines = text.splitlines()
    i = 0
    prev = ""           # the last non-blank line before the current one
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                prev = lines[i]
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        lang, skip = _lang_of(m.group("info"))
        skip = skip or bool(_SKIP_COMMENT.match(prev))
        start = i + 1
        j = start
        body = []
        while j < len(lines):
            close = lines[j].strip()
            if close.startswith(fence[0] * len(fence)) and set(close) <= {fence[0]}:
                break
            ln = lines[j]
            body.append(ln[indent:] if ln[:indent].strip() == "" else ln.lstrip())
            j += 1
        blocks.append(Block(lang, "\n".join(body) + "\n", start + 1, skip))
        prev = ""
        i = j + 1
    return blocks


def _page_id(path):
    return str(path.relative_to(ROOT))


def test_parser_understands_fences_and_skips():
    text = ("# t\n\n```python\na = 1\n```\n\n<!-- skip -->\n```python\nslow()\n```\n"
            "```{.python .no-run}\nslow()\n```\n```bash\nls\n```\n"
            "- item\n\n    ```pycon\n    >>> a\n    1\n    ```\n")
    blocks = parse_blocks(text)
    assert [(b.lang, b.line, b.skip) for b in blocks] == [
        ("python", 4, False), ("python", 9, True), ("python", 12, True), (None, 15, False),
        ("pycon", 20, False)]
    assert blocks[0].code == "a = 1\n" and blocks[-1].code == ">>> a\n1\n"


def _run_python(block, ns, filename):
    code = compile("\n" * (block.line - 1) + block.code, filename, "exec")
    exec(code, ns)


def _run_pycon(block, ns, filename):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, ns, filename, filename, block.line - 1)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    out = io.StringIO()
    runner.run(test, out=out.write, clear_globs=False)
    if runner.failures:
        raise AssertionError("pycon block at %s:%d: output differs\n%s"
                             % (filename, block.line, out.getvalue()))


def _runnable(page):
    return [b for b in parse_blocks(page.read_text(encoding="utf-8")) if b.lang]


# pages without Python examples (most API pages, architecture.md) have nothing to run
CODE_PAGES = [p for p in PAGES if _runnable(p)]


@pytest.mark.parametrize("page", CODE_PAGES, ids=[_page_id(p) for p in CODE_PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    blocks = _runnable(page)
    monkeypatch.chdir(tmp_path)
    npconv.manual_seed(0)
    ns = {"__name__": "__docs__"}
    filename = str(page)
    skipped = []
    for block in blocks:
        if block.skip:
            skipped.append(block.line)
            continue
        try:
            if block.lang == "python":
                _run_python(block, ns, filename)
            else:
                _run_pycon(block, ns, filename)
        except Exception:
            pytest.fail("example at %s:%d failed:\n%s"
                        % (_page_id(page), block.line, traceback.format_exc()), pytrace=False)
        finally:
            _close_figures()
    if skipped:
        print("%s: skipped blocks at lines %s" % (_page_id(page), skipped))


def _close_figures():
    import sys
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


# ------------------------------------------------------------------------- doctests
def _npconv_modules():
    names = ["npconv"]
    for info in pkgutil.walk_packages(npconv.__path__, "npconv."):
        if info.name.split(".")[-1] == "__main__":
            continue
        names.append(info.name)
    return sorted(names)


def _modules_with_examples():
    found = []
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in _npconv_modules():
        try:
            mod = importlib.import_module(name)
        except Exception:       # an optional dependency (cupy, matplotlib) is missing
            continue
        tests = [t for t in finder.find(mod, name) if t.examples]
        if tests:
            found.append(name)
    return found


DOCTEST_MODULES = _modules_with_examples()


@pytest.mark.parametrize("modname", DOCTEST_MODULES)
def test_docstring_examples(modname, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    npconv.manual_seed(0)
    mod = importlib.import_module(modname)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    out = io.StringIO()
    for test in finder.find(mod, modname):
        if test.examples:
            with contextlib.redirect_stdout(io.StringIO()):
                runner.run(test, out=out.write)
    _close_figures()
    assert not runner.failures, out.getvalue()


# ------------------------------------------------------------------------- site checks
def test_images_referenced_by_pages_exist():
    missing = []
    for page in DOCS.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text) + \
                re.findall(r'<img [^>]*src="([^"]+)"', text):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                missing.append("%s -> %s" % (_page_id(page), target))
    assert not missing, "pages refer to missing images (run scripts/make_figures.py):\n" + \
        "\n".join(missing)


def test_nav_lists_existing_pages():
    cfg = ROOT / "mkdocs.yml"
    assert cfg.exists(), "mkdocs.yml is missing"
    listed = re.findall(r":\s*([\w/.-]+\.md)\s*$", cfg.read_text(), flags=re.M)
    assert listed, "mkdocs.yml has no nav"
    for rel in listed:
        assert (DOCS / rel).exists(), "mkdocs.yml lists %s, which does not exist" % rel
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert on_disk <= set(listed), "pages missing from the nav: %s" % sorted(on_disk - set(listed))


def test_architecture_page_names_real_paths():
    """docs/architecture.md stays true: every npconv path it names exists, and every
    subpackage and public top-level module of npconv is on it."""
    page = DOCS / "architecture.md"
    assert page.exists(), "docs/architecture.md is missing"
    text = page.read_text(encoding="utf-8")
    named = set(re.findall(r"`(npconv/[\w/]+(?:\.py)?)`", text))
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, "architecture.md names paths that do not exist: %s" % missing
    pkg = ROOT / "npconv"
    # public top-level modules and subpackages (private helper modules may be left out)
    real = {"npconv/%s" % p.name for p in pkg.iterdir()
            if not p.name.startswith("_")
            and (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    undocumented = sorted(r for r in real
                          if not any(n == r or n.startswith(r + "/") for n in named))
    assert not undocumented, "architecture.md does not mention: %s" % undocumented


API_MODULES = ["npconv", "npconv.autograd", "npconv.nn", "npconv.nn.functional", "npconv.optim",
               "npconv.optim.lr_scheduler", "npconv.data", "npconv.models", "npconv.viz"]


def test_api_reference_covers_every_public_name():
    """The API pages are built by docs/hooks/api_pages.py from each module's public names;
    check that every package has its page and that each public name gets an entry."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("api_pages", DOCS / "hooks" / "api_pages.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    pages = "".join(p.read_text(encoding="utf-8") for p in (DOCS / "api").glob("*.md"))
    for mod in API_MODULES:
        assert "<!-- api: %s -->" % mod in pages, "no API page for %s" % mod
        names = hook.public_names(mod)
        assert names, "%s has no public names" % mod
        text = hook.expand(mod)
        for name, obj in names:
            assert ("::: %s.%s\n" % (mod, name) in text) or ("`%s.%s`" % (mod, name) in text), \
                "%s.%s is missing from the API reference" % (mod, name)


# ------------------------------------------------------------------------- README and CLI
def _readme_commands():
    """The shell commands of the README's first ``bash`` block (comments dropped)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in parse_blocks(text) if b.lang is None and "venv" in b.code)
    return [ln.strip() for ln in block.code.splitlines()
            if ln.strip() and not ln.strip().startswith("#")]


def test_readme_commands_match_ci_and_quickstart():
    """The README's two commands (train on the default data; install and run the tests) are
    the ones the Quickstart explains, and CI runs the test command verbatim."""
    commands = _readme_commands()
    assert len(commands) == 2, commands
    train_cmd, test_cmd = commands
    assert train_cmd.endswith("-m npconv.train"), train_cmd
    assert '".[test]"' in test_cmd and test_cmd.endswith("-m pytest"), test_cmd
    ci = ROOT / ".ci" / "run"
    if ci.exists():
        assert test_cmd in ci.read_text(encoding="utf-8"), \
            "README's test command is not what .ci/run runs"
    quickstart = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    for cmd in commands:
        assert cmd in quickstart, "quickstart.md does not show the README's command %r" % cmd


def test_documented_cli_options_exist():
    """Every ``--option`` the README and the pages about the main job name is an option of
    ``python -m npconv.train``."""
    from npconv.train import build_parser
    known = {s for a in build_parser()._actions for s in a.option_strings}
    named = {}
    for page in [ROOT / "README.md"] + [DOCS / n for n in
                                        ("index.md", "quickstart.md", "training.md", "gpu.md")]:
        for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", page.read_text(encoding="utf-8")):
            named.setdefault(opt, _page_id(page))
    unknown = sorted("%s (%s)" % (o, p) for o, p in named.items() if o not in known)
    assert not unknown, "options that npconv.train does not have: %s" % unknown

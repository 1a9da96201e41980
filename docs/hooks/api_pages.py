"""MkDocs hook: expand ``<!-- api: MODULE -->`` into one mkdocstrings entry per public name.

The public names are read from the package itself at build time (its ``__all__``, or every
name without a leading underscore), so the API reference covers every public name and can
never fall behind the code. Names that are not npconv objects (``npconv.float32`` is
``numpy.float32``) are listed in a table instead of being documented again.
"""
import importlib
import inspect
import os
import re
import sys

# the repository root, so that the package imports even when it is not installed
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

_MARK = re.compile(r"^<!--\s*api:\s*([\w.]+)\s*-->\s*$", re.M)


def public_names(modname):
    """[(name, object)] of the public, non-module names of ``modname``: its ``__all__``,
    plus, for a package, every name without a leading underscore (its re-exports), and for
    a module, the public names it defines or re-exports from a private module
    (``npconv.nn.functional`` re-exports ``cross_entropy`` from ``npconv.nn._loss``)."""
    mod = importlib.import_module(modname)
    listed = list(getattr(mod, "__all__", None) or [])
    is_package = hasattr(mod, "__path__")
    names = listed + [n for n in dir(mod) if not n.startswith("_") and n not in listed]
    out = []
    for n in names:
        obj = getattr(mod, n, None)
        if obj is None or inspect.ismodule(obj):
            continue
        home = getattr(obj, "__module__", None) or ""
        private_home = home.startswith("npconv.") and any(
            part.startswith("_") for part in home.split("."))
        if n in listed or is_package or home == modname or private_home:
            out.append((n, obj))
    return out


def _is_ours(obj):
    mod = getattr(obj, "__module__", None) or ""
    return (inspect.isclass(obj) or inspect.isfunction(obj)) and mod.startswith("npconv")


def expand(modname):
    names = public_names(modname)
    ours = [(n, o) for n, o in names if _is_ours(o)]
    other = [(n, o) for n, o in names if not _is_ours(o)]
    parts = []
    for kind, test in (("Classes", inspect.isclass), ("Functions", inspect.isfunction)):
        group = [n for n, o in ours if test(o)]
        if not group:
            continue
        parts.append("## %s\n" % kind)
        for n in group:
            parts.append("::: %s.%s\n" % (modname, n))
    if other:
        parts.append("## Other names\n")
        parts.append("| name | value |\n| --- | --- |")
        for n, o in other:
            value = getattr(o, "__name__", None)
            value = ("`%s.%s`" % (getattr(o, "__module__", ""), value)).replace("`.", "`") \
                if value else "`%r`" % (o,)
            parts.append("| `%s.%s` | %s |" % (modname, n, value.replace("|", "\\|")))
        parts.append("")
    return "\n".join(parts)


def on_page_markdown(markdown, page, config, files, **kwargs):
    return _MARK.sub(lambda m: expand(m.group(1)), markdown)

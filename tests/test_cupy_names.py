"""Every ``xp.<name>`` (and ``xp.<a>.<b>``) npconv's source uses exists in CuPy.

The array-module idiom ``xp = get_array_module(x)`` only carries the code to the GPU if each
name it uses is one CuPy has too. Checked twice: against the installed CuPy (skipped when CuPy
is not importable; its import works without a GPU), and against the list checked in as
``npconv._cupy_names`` (always, so CI without CuPy still catches a NumPy-only name).
"""
import pathlib
import re

import pytest

from npconv import _cupy_names as N

ROOT = pathlib.Path(__file__).resolve().parents[1] / "npconv"
# the stand-in implementation and the name list talk *about* names; they are not kernels
SKIP = {"_standin.py", "_cupy_names.py"}

_XP = re.compile(r"\bxp((?:\.[A-Za-z_]\w*)+)")
_GEN = re.compile(r"\bgenerator\(\s*xp\s*\)\.([A-Za-z_]\w*)")
_SUBMODULES = {"random": N.RANDOM, "linalg": N.LINALG, "fft": N.FFT, "lib": N.LIB}
_UFUNC_METHODS = {"at", "reduce", "accumulate", "reduceat", "outer"}
# ndarray attributes reached through ``xp.ndarray.<x>`` etc. are not module names
_NOT_CHECKED_SECOND = {"ndarray", "dtype", "float32", "float64", "int64", "int32", "bool_",
                       "uint8", "float16", "newaxis", "inf", "nan", "pi", "e", "cuda"}


def _strip_comments_and_strings(src):
    """Drop comments and docstrings so prose like 'xp.foo in the docstring' is not read."""
    src = re.sub(r'("""|\'\'\')(?:.|\n)*?\1', "", src)
    return re.sub(r"#[^\n]*", "", src)


def used_names():
    """{(first, second_or_None): [file:line, ...]} for every xp attribute in npconv."""
    uses = {}
    for path in sorted(ROOT.rglob("*.py")):
        if path.name in SKIP:
            continue
        text = _strip_comments_and_strings(path.read_text())
        for lineno, line in enumerate(text.splitlines(), 1):
            for m in _XP.finditer(line):
                parts = m.group(1)[1:].split(".")
                if parts[0].startswith("__"):
                    continue            # module attributes (xp.__name__), not array API
                key = (parts[0], ".".join(parts[1:]) or None)
                uses.setdefault(key, []).append("%s:%d" % (path.relative_to(ROOT.parent),
                                                           lineno))
            for m in _GEN.finditer(line):
                uses.setdefault(("random.Generator", m.group(1)), []).append(
                    "%s:%d" % (path.relative_to(ROOT.parent), lineno))
    return uses


def _problems(has_top, has_sub, is_ufunc, ufunc_at, has_gen_method, uses=None):
    out = []
    uses = used_names() if uses is None else uses
    for (a, b), where in sorted(uses.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        w = ", ".join(where[:3]) + (" ..." if len(where) > 3 else "")
        if a == "random.Generator":
            if not has_gen_method(b):
                out.append("cupy.random.Generator.%s (used at %s)" % (b, w))
            continue
        if not has_top(a):
            out.append("cupy.%s (used at %s)" % (a, w))
            continue
        if b is None or a in _NOT_CHECKED_SECOND:
            continue
        if a in _SUBMODULES:
            b, _, c = b.partition(".")
            if not has_sub(a, b):
                out.append("cupy.%s.%s (used at %s)" % (a, b, w))
            elif a == "lib" and b == "stride_tricks" and c and not has_sub("stride_tricks",
                                                                            c.split(".")[0]):
                out.append("cupy.lib.stride_tricks.%s (used at %s)" % (c, w))
            continue
        b = b.split(".")[0]
        if is_ufunc(a):
            if b == "at" and not ufunc_at(a):
                out.append("cupy.%s.at: CuPy supports ufunc.at only for %s (used at %s)"
                           % (a, sorted(N.UFUNC_AT), w))
            elif b in ("reduce", "accumulate") and a not in ("add", "multiply"):
                out.append("cupy.%s.%s: CuPy supports it only for add and multiply (used at %s)"
                           % (a, b, w))
            elif b == "reduceat" and a != "add":
                out.append("cupy.%s.reduceat: CuPy supports it only for add (used at %s)"
                           % (a, w))
            elif b not in _UFUNC_METHODS and b not in ("nin", "nout", "nargs", "types",
                                                        "name", "__name__"):
                out.append("cupy.%s.%s (used at %s)" % (a, b, w))
    return out


def test_scanner_finds_the_kernels_names():
    uses = used_names()
    # the core ops use at least these; if the scan finds nothing, the test is blind
    assert ("maximum", None) in uses or ("exp", None) in uses, sorted(uses)[:20]


def _checked_in_problems(uses=None):
    top = N.TOP | {"ndarray", "ufunc"}
    subs = dict(_SUBMODULES)
    subs["stride_tricks"] = N.STRIDE_TRICKS
    return _problems(
        has_top=lambda a: a in top,
        has_sub=lambda a, b: b in subs[a],
        is_ufunc=lambda a: a in N.UFUNCS,
        ufunc_at=lambda a: a in N.UFUNC_AT,
        has_gen_method=lambda b: b in N.GENERATOR,
        uses=uses)


def test_checker_flags_names_cupy_lacks():
    bad = {("errstate", None): ["x:1"], ("multiply", "at"): ["x:2"],
           ("maximum", "reduce"): ["x:3"], ("lib", "stride_tricks.nope"): ["x:4"],
           ("random.Generator", "normal"): ["x:5"], ("linalg", "nope"): ["x:6"]}
    good = {("add", "at"): ["y:1"], ("lib", "stride_tricks.as_strided"): ["y:2"],
            ("random", "default_rng"): ["y:3"], ("random.Generator", "standard_normal"):
            ["y:4"], ("float32", None): ["y:5"], ("add", "reduceat"): ["y:6"]}
    assert len(_checked_in_problems(bad)) == len(bad)
    assert _checked_in_problems(good) == []


def test_names_used_exist_in_checked_in_cupy_list():
    problems = _checked_in_problems()
    assert not problems, ("npconv uses names CuPy %s does not have:\n  "
                          % N.CUPY_VERSION + "\n  ".join(problems))


def test_names_used_exist_in_installed_cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install cupy-cuda12x "
                                              "imports without a GPU)")
    problems = _problems(
        has_top=lambda a: hasattr(cupy, a),
        has_sub=lambda a, b: hasattr(cupy.lib.stride_tricks if a == "stride_tricks"
                                     else getattr(cupy, a), b),
        is_ufunc=lambda a: isinstance(getattr(cupy, a), cupy.ufunc),
        ufunc_at=lambda a: getattr(cupy, a)._scatter_op is not None,
        has_gen_method=lambda b: hasattr(cupy.random.Generator, b))
    assert not problems, ("npconv uses names CuPy %s does not have:\n  "
                          % cupy.__version__ + "\n  ".join(problems))


def test_checked_in_list_matches_installed_cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    from npconv._cupy_names import _generate
    ns = {"frozenset": frozenset}
    exec(_generate(), ns)
    # a checked-in name CuPy no longer has would let the stand-in accept broken code
    for key in ("TOP", "UFUNCS", "UFUNC_AT", "NDARRAY", "RANDOM", "GENERATOR", "LINALG",
                "FFT", "LIB", "STRIDE_TRICKS"):
        stale = getattr(N, key) - ns[key]
        assert not stale, ("npconv/_cupy_names.py %s lists names CuPy %s lacks: %s; "
                           "regenerate with python -m npconv._cupy_names"
                           % (key, cupy.__version__, sorted(stale)))
    stale = {k: sorted(v - ns["KWARGS"].get(k, v)) for k, v in N.KWARGS.items()}
    stale = {k: v for k, v in stale.items() if v}
    assert not stale, ("npconv/_cupy_names.py KWARGS lists keywords CuPy %s does not take: "
                       "%s; regenerate with python -m npconv._cupy_names"
                       % (cupy.__version__, stale))


def test_standin_xp_refuses_a_name_cupy_lacks():
    from npconv._standin import xp
    missing = sorted(n for n in ("errstate", "nditer", "matrix") if n not in N.TOP)
    assert missing
    for n in missing:
        with pytest.raises(AttributeError):
            getattr(xp, n)


def _xp_calls_with_keywords():
    """[(dotted name after xp., keyword, file:line)] for every ``xp.<...>(..., kw=...)`` call
    in npconv (found with ast, so strings and comments are ignored)."""
    import ast
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name in SKIP:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.keywords:
                continue
            parts = []
            f = node.func
            while isinstance(f, ast.Attribute):
                parts.append(f.attr)
                f = f.value
            if not (isinstance(f, ast.Name) and f.id == "xp" and parts):
                continue
            name = ".".join(reversed(parts))
            for kw in node.keywords:
                if kw.arg is not None:
                    out.append((name, kw.arg, "%s:%d" % (path.relative_to(ROOT.parent),
                                                         node.lineno)))
    return out


def test_keywords_passed_to_xp_calls_exist_in_cupy():
    calls = _xp_calls_with_keywords()
    assert calls, "the scan found no xp calls with keywords: it is blind"
    problems = []
    for name, kw, where in calls:
        first = name.split(".")[0]
        key = "ufunc" if first in N.UFUNCS and "." not in name else name
        allowed = N.KWARGS.get(key)
        if allowed is not None and kw not in allowed:
            problems.append("cupy.%s(%s=...) at %s (CuPy takes: %s)"
                            % (name, kw, where, ", ".join(sorted(allowed))))
    assert not problems, "keywords CuPy does not take:\n  " + "\n  ".join(problems)

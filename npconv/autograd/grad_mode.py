"""Gradient recording on and off: ``no_grad``, ``enable_grad``, ``is_grad_enabled``.

Recording is a global flag (one thread of control, as in every teaching framework). Turning it
off stops ops from building the graph; ``backward()`` itself still works inside ``no_grad``.
"""
import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]


class _State:
    enabled = True


def is_grad_enabled():
    """True when ops record the graph for backward."""
    return _State.enabled


class _GradMode:
    """Context manager and decorator that sets the recording flag and restores it on exit.
    Usable as ``with no_grad():``, ``@no_grad()`` and ``@no_grad``."""

    _mode = True

    def __new__(cls, *args):
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])      # bare decorator: @no_grad
        return super().__new__(cls)

    def __enter__(self):
        # a stack, so one instance may be entered again while active
        self.__dict__.setdefault("_prevs", []).append(_State.enabled)
        _State.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _State.enabled = self._prevs.pop()
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _State.enabled
            _State.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _State.enabled = prev
        return wrapper


class no_grad(_GradMode):
    """Ops inside run without recording the graph (evaluation, in-place parameter updates)."""
    _mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""
    _mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(mode)``: set recording to ``mode``, as a context manager, decorator
    or plain call."""

    def __init__(self, mode):
        self._mode = bool(mode)
        self._prev = _State.enabled
        _State.enabled = self._mode

    def __enter__(self):  # the flag was already set by __init__; keep the saved one
        return self

    def __exit__(self, *exc):
        _State.enabled = self._prev
        return False

    def __call__(self, fn):
        # as a decorator, the call in __init__ must not change the global state
        _State.enabled = self._prev
        return super().__call__(fn)

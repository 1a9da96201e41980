"""Gradient recording on and off: ``no_grad``, ``enable_grad``, ``is_grad_enabled``.

Recording is a global flag (one thread of control, as in every teaching framework). Turning it
off stops ops from building the graph; ``backward()`` itself still works inside ``no_grad``.
"""
import functools
import inspect

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
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, mode)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _State.enabled
            _State.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _State.enabled = prev
        return wrapper


def _wrap_generator(fn, mode):
    """A decorated generator function: calling it only creates the generator, so the mode is
    set around each step of its body instead (and the caller's mode is back while it holds
    the yielded value), as PyTorch's decorators do."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        gen = fn(*args, **kwargs)
        step, arg = gen.send, None
        while True:
            prev = _State.enabled
            _State.enabled = mode
            try:
                value = step(arg)
            except StopIteration as stop:
                return stop.value
            finally:
                _State.enabled = prev
            try:
                arg = yield value
                step = gen.send
            except GeneratorExit:
                prev, _State.enabled = _State.enabled, mode
                try:
                    gen.close()          # its finally blocks run in the mode too
                finally:
                    _State.enabled = prev
                raise
            except BaseException as e:   # thrown in by the caller: pass it to the body
                step, arg = gen.throw, e
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

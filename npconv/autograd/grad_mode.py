"""Gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``is_grad_enabled``.

As in PyTorch, the mode is per thread: a ``no_grad`` block in one thread (a data-loading or
evaluation thread) does not stop another thread from recording its graph, and a new thread
starts with recording on. Turning it off stops ops from building the graph; ``backward()``
itself still works inside ``no_grad``.
"""
import contextvars
import functools
import inspect

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

# A ContextVar rather than threading.local: each thread gets its own value (default True) and
# reading it is a C call as cheap as a class attribute, where a threading.local subclass costs
# three times that on every op (Function.apply reads the mode once per call).
_enabled = contextvars.ContextVar("npconv_grad_enabled", default=True)
_get = _enabled.get
_set = _enabled.set


def is_grad_enabled():
    """True when ops record the graph for backward (in this thread)."""
    return _get()


class _StateView:
    """``_State.enabled``: the current thread's mode, for code that reads or sets it as an
    attribute."""

    @property
    def enabled(self):
        return _get()

    @enabled.setter
    def enabled(self, value):
        _set(bool(value))


_State = _StateView()


class _GradMode:
    """Context manager and decorator that sets the recording flag and restores it on exit.
    Usable as ``with no_grad():``, ``@no_grad()`` and ``@no_grad``."""

    _mode = True

    def __new__(cls, *args):
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])      # bare decorator: @no_grad
        if cls is not set_grad_enabled and args:
            raise TypeError("%s() takes no arguments (got %d); use it as `with %s():` or as "
                            "a decorator" % (cls.__name__, len(args), cls.__name__))
        return super().__new__(cls)

    def __enter__(self):
        # a stack, so one instance may be entered again while active
        self.__dict__.setdefault("_prevs", []).append(_get())
        _set(self._mode)
        return self

    def __exit__(self, *exc):
        _set(self._prevs.pop())
        return False

    def __call__(self, fn):
        if not callable(fn):
            raise TypeError("%s used as a decorator expects a function, got %s"
                            % (type(self).__name__, type(fn).__name__))
        mode = self._mode
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, mode)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _get()
            _set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(prev)
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
            prev = _get()
            _set(mode)
            try:
                value = step(arg)
            except StopIteration as stop:
                return stop.value
            finally:
                _set(prev)
            try:
                arg = yield value
                step = gen.send
            except GeneratorExit:
                prev = _get()
                _set(mode)
                try:
                    gen.close()          # its finally blocks run in the mode too
                finally:
                    _set(prev)
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
    """``set_grad_enabled(mode)``: set recording to ``mode`` (a bool), as a context manager,
    decorator or plain call (which sets it at once, as in PyTorch)."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            # bool(...) of a string or a tensor would pick a mode silently
            raise TypeError("set_grad_enabled(): argument 'mode' must be bool, not %s"
                            % type(mode).__name__)
        self._mode = mode
        self._prev = _get()
        _set(mode)

    def __enter__(self):
        # the flag was already set by __init__; keep the mode from before it
        _set(self._mode)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        # as a decorator, the call in __init__ must not change the mode
        _set(self._prev)
        return super().__call__(fn)

    def __repr__(self):
        return "npconv.set_grad_enabled(mode=%s)" % self._mode

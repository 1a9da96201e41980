"""``SGD`` with momentum, dampening, weight decay and Nesterov momentum (PyTorch's rule)."""
from ..autograd import grad_mode as _grad_mode
from ..backend import get_array_module
from .optimizer import Optimizer, required

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's update for each parameter p with gradient g::

        g = g + weight_decay * p                         (if weight_decay != 0)
        if momentum != 0:
            buf = g                     (first step)
            buf = momentum * buf + (1 - dampening) * g   (later steps)
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g                                   (p + lr * g if maximize)

    ``maximize`` is keyword-only, as in PyTorch.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        if lr is not required and lr < 0.0:
            raise ValueError("Invalid learning rate: %s" % lr)
        if momentum < 0.0:
            raise ValueError("Invalid momentum value: %s" % momentum)
        if weight_decay < 0.0:
            raise ValueError("Invalid weight_decay value: %s" % weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def step(self, closure=None):
        """One update of every parameter with a ``.grad`` (others are skipped and get no
        state); returns ``closure()``'s loss when a closure is given."""
        loss = self._closure(closure)
        with _grad_mode.no_grad():
            for group in self.param_groups:
                lr = float(group["lr"])
                mom = float(group["momentum"])
                damp = float(group["dampening"])
                wd = float(group["weight_decay"])
                nesterov = group["nesterov"]
                maximize = group.get("maximize", False)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self._update(p, lr, mom, damp, wd, nesterov, maximize)
                    p._version[0] += 1
        return loss

    def _update(self, p, lr, mom, damp, wd, nesterov, maximize):
        xp = get_array_module(p.data)
        param = p.data
        g = p.grad.data
        if maximize:
            t = self._tmp(param, 1)
            xp.negative(g, out=t)
            g = t
        if wd != 0:
            t0, t1 = self._tmp(param, 0), self._tmp(param, 1)
            xp.multiply(param, wd, out=t0)       # g + wd * p into scratch (p.grad untouched;
            xp.add(g, t0, out=t1)                # g may itself be t1, from maximize)
            g = t1
        if mom != 0:
            state = self._state(p)
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = xp.array(g, copy=True)
            else:
                buf *= mom
                if damp == 0:
                    buf += g
                else:
                    t = self._tmp(param, 0)
                    xp.multiply(g, 1.0 - damp, out=t)
                    buf += t
            if nesterov:
                t = self._tmp(param, 0)
                xp.multiply(buf, mom, out=t)
                xp.add(g, t, out=t)
                g = t
            else:
                g = buf
        t = self._tmp(param, 0)
        xp.multiply(g, lr, out=t)
        param -= t

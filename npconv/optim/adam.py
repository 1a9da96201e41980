"""``Adam`` and ``AdamW`` with PyTorch's update equations (incl. ``amsgrad``)."""

from ..autograd import grad_mode as _grad_mode
from ..backend import get_array_module
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's update for parameter p with gradient g at step t::

        g = g + weight_decay * p                  (Adam; AdamW instead: p = p (1 - lr wd))
        m = m + (1 - beta1) (g - m)               (lerp, as PyTorch)
        v = beta2 v + (1 - beta2) g^2
        vmax = max(vmax, v)                       (amsgrad; then v := vmax below)
        denom = sqrt(v) / sqrt(1 - beta2^t) + eps
        p = p - lr / (1 - beta1^t) * m / denom

    ``maximize`` and ``decoupled_weight_decay`` are keyword-only, as in PyTorch;
    ``decoupled_weight_decay=True`` makes it AdamW (a per-group option, as the others).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError("Invalid learning rate: %s" % lr)
        if not 0.0 <= eps:
            raise ValueError("Invalid epsilon value: %s" % eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError("Invalid beta parameter at index 0: %s" % betas[0])
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError("Invalid beta parameter at index 1: %s" % betas[1])
        if not 0.0 <= weight_decay:
            raise ValueError("Invalid weight_decay value: %s" % weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def step(self, closure=None):
        """One update of every parameter with a ``.grad`` (others are skipped and get no
        state); returns ``closure()``'s loss when a closure is given."""
        loss = self._closure(closure)
        with _grad_mode.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self._update(p, group)
                    p._version[0] += 1
        return loss

    def _update(self, p, group):
        xp = get_array_module(p.data)
        lr = float(group["lr"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        amsgrad = group["amsgrad"]
        param = p.data
        g = p.grad.data
        state = self._state(p)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_avg_sq"] = xp.zeros_like(param)
            if amsgrad:
                state["max_exp_avg_sq"] = xp.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        t0 = self._tmp(param, 0)
        if group.get("maximize", False):
            t1 = self._tmp(param, 1)
            xp.negative(g, out=t1)
            g = t1
        if wd != 0:
            if group.get("decoupled_weight_decay", False):
                param *= 1.0 - lr * wd
            else:
                t1 = self._tmp(param, 1)
                xp.multiply(param, wd, out=t0)
                xp.add(g, t0, out=t1)
                g = t1
        # m.lerp_(g, 1 - beta1), with PyTorch's two-sided formula
        w = 1.0 - beta1
        xp.subtract(g, m, out=t0)
        if w < 0.5:
            t0 *= w
            m += t0
        else:
            t0 *= w - 1.0          # m = g - (g - m)(1 - w)
            xp.add(g, t0, out=m)
        # v = beta2 v + (1 - beta2) g g
        v *= beta2
        xp.multiply(g, 1.0 - beta2, out=t0)
        t0 *= g
        v += t0
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bc2_sqrt = bias_correction2 ** 0.5        # as PyTorch (not math.sqrt)
        if amsgrad:
            vmax = state["max_exp_avg_sq"]
            xp.maximum(vmax, v, out=vmax)
            xp.sqrt(vmax, out=t0)
        else:
            xp.sqrt(v, out=t0)
        t0 /= bc2_sqrt
        t0 += eps
        # p.addcdiv_(m, denom, value=-step_size): p - step_size * (m / denom)
        xp.divide(m, t0, out=t0)
        t0 *= step_size
        param -= t0


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p = p (1 - lr wd) before the
    Adam step; ``weight_decay`` defaults to 1e-2 as in PyTorch (where AdamW is likewise Adam
    with ``decoupled_weight_decay=True``)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """As ``Optimizer.load_state_dict``; every group stays decoupled (as PyTorch's
        AdamW), whatever the checkpoint's groups say."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True

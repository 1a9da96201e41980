"""``BatchNorm1d`` and ``BatchNorm2d``, as in ``torch.nn``."""
import numpy

from ...tensor import Tensor
from .. import functional as F
from .. import init
from .linear import _size_arg
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    _expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = _size_arg(num_features, "num_features", type(self).__name__)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.bias_enabled = bool(affine and bias)   # PyTorch 2.13's keyword-only ``bias``
        self.track_running_stats = track_running_stats
        dt = numpy.dtype(dtype or numpy.float32)
        if affine:
            self.weight = Parameter(numpy.ones((self.num_features,), dt))
            if self.bias_enabled:
                self.bias = Parameter(numpy.zeros((self.num_features,), dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(numpy.zeros((self.num_features,), dt)))
            self.register_buffer("running_var", Tensor(numpy.ones((self.num_features,), dt)))
            self.register_buffer("num_batches_tracked", Tensor(numpy.array(0, numpy.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _upgrade_state_dict(self, state_dict, prefix):
        # checkpoints from before the num_batches_tracked buffer lack it: the current count
        # is kept and the key is not reported missing, as PyTorch does for a state dict
        # without version metadata (npconv's never carry any)
        key = prefix + "num_batches_tracked"
        if self.num_batches_tracked is not None and key not in state_dict:
            state_dict[key] = self.num_batches_tracked

    def _check_input_dim(self, input):
        # (the channel count is checked by F.batch_norm against the weight and running
        # statistics, as in PyTorch: a module with neither takes any number of channels)
        if input.ndim not in self._expected_dims:
            raise ValueError("expected %s input (got %dD input)"
                             % (" or ".join("%dD" % d for d in self._expected_dims), input.ndim))

    def forward(self, input):
        """input (N, C, *) -> the same shape: y = (x - mean) / sqrt(var + eps) * weight + bias
        per channel, with the batch's statistics in training (or when no running statistics
        are kept), else the running ones."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            # in place on the buffer's array (its identity is kept, as PyTorch's add_)
            self.num_batches_tracked.data += 1
            self.num_batches_tracked._version[0] += 1
            if self.momentum is None:   # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        # running stats are updated only when tracked and in training mode
        track = not self.training or self.track_running_stats
        return F.batch_norm(input,
                            self.running_mean if track else None,
                            self.running_var if track else None,
                            self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self):
        # PyTorch 2.13's format (it added ``bias``)
        return ("%d, eps=%s, momentum=%s, affine=%s, bias=%s, track_running_stats=%s"
                % (self.num_features, self.eps, self.momentum, self.affine, self.bias_enabled,
                   self.track_running_stats))


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C."""
    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel C."""
    _expected_dims = (4,)

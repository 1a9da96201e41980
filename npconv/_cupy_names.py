"""The names CuPy has, checked in so that the test stand-in device (``npconv._standin``) can
refuse any ``xp.<name>`` that real CuPy lacks, on machines without CuPy.

Generated from CuPy by ``python -m npconv._cupy_names`` (rewrites the DATA section below);
``tests/test_cupy_names.py`` checks it against the installed CuPy when there is one.
"""

# fmt: off
# ---- DATA (generated) ----
CUPY_VERSION = '14.2.0'
TOP = frozenset(['AxisError', 'ComplexWarning', 'DataSource', 'ElementwiseKernel', 'Inf', 'Infinity',
 'ModuleDeprecationWarning', 'NAN', 'NINF', 'NZERO', 'NaN', 'PINF', 'PZERO', 'RankWarning',
 'RawKernel', 'RawModule', 'ReductionKernel', 'TooHardError', 'VisibleDeprecationWarning',
 'abs', 'absolute', 'acos', 'acosh', 'add', 'all', 'allclose', 'alltrue', 'amax', 'amin',
 'angle', 'annotations', 'any', 'append', 'apply_along_axis', 'apply_over_axes', 'arange',
 'arccos', 'arccosh', 'arcsin', 'arcsinh', 'arctan', 'arctan2', 'arctanh', 'argmax', 'argmin',
 'argpartition', 'argsort', 'argwhere', 'around', 'array', 'array2string', 'array_equal',
 'array_equiv', 'array_repr', 'array_split', 'array_str', 'asanyarray', 'asarray',
 'asarray_chkfinite', 'ascontiguousarray', 'asfarray', 'asfortranarray', 'asin', 'asinh',
 'asnumpy', 'astype', 'atan', 'atan2', 'atanh', 'atleast_1d', 'atleast_2d', 'atleast_3d',
 'average', 'bartlett', 'base_repr', 'binary_repr', 'bincount', 'bitwise_and', 'bitwise_count',
 'bitwise_invert', 'bitwise_left_shift', 'bitwise_not', 'bitwise_or', 'bitwise_right_shift',
 'bitwise_xor', 'blackman', 'bool', 'bool_', 'broadcast', 'broadcast_arrays',
 'broadcast_shapes', 'broadcast_to', 'byte', 'byte_bounds', 'c_', 'can_cast', 'cbrt', 'cdouble',
 'ceil', 'cfloat', 'choose', 'clear_memo', 'clip', 'column_stack', 'common_type', 'complex128',
 'complex64', 'complex_', 'complexfloating', 'compress', 'concat', 'concatenate', 'conj',
 'conjugate', 'convolve', 'copy', 'copysign', 'copyto', 'corrcoef', 'correlate', 'cos', 'cosh',
 'count_nonzero', 'cov', 'cross', 'csingle', 'cuda', 'cumprod', 'cumproduct', 'cumsum',
 'cumulative_prod', 'cumulative_sum', 'deg2rad', 'degrees', 'delete', 'diag', 'diag_indices',
 'diag_indices_from', 'diagflat', 'diagonal', 'diff', 'digitize',
 'disable_experimental_feature_warning', 'disp', 'divide', 'divmod', 'dot', 'double', 'dsplit',
 'dstack', 'dtype', 'e', 'ediff1d', 'einsum', 'empty', 'empty_like', 'equal', 'euler_gamma',
 'exceptions', 'exp', 'exp2', 'expand_dims', 'expm1', 'extract', 'eye', 'fabs', 'fft',
 'fill_diagonal', 'find_common_type', 'finfo', 'fix', 'flatiter', 'flatnonzero', 'flip',
 'fliplr', 'flipud', 'float16', 'float32', 'float64', 'float_', 'float_power', 'floating',
 'floor', 'floor_divide', 'fmax', 'fmin', 'fmod', 'format_float_positional',
 'format_float_scientific', 'format_parser', 'frexp', 'fromDlpack', 'from_dlpack', 'frombuffer',
 'fromfile', 'fromfunction', 'fromiter', 'fromstring', 'full', 'full_like', 'fuse', 'gcd',
 'generic', 'genfromtxt', 'get_array_module', 'get_array_wrap', 'get_default_memory_pool',
 'get_default_pinned_memory_pool', 'get_printoptions', 'gradient', 'greater', 'greater_equal',
 'half', 'hamming', 'hanning', 'heaviside', 'histogram', 'histogram2d', 'histogramdd', 'hsplit',
 'hstack', 'hypot', 'i0', 'identity', 'iinfo', 'imag', 'in1d', 'index_exp', 'indices',
 'inexact', 'inf', 'infty', 'inner', 'int16', 'int32', 'int64', 'int8', 'int_', 'intc',
 'integer', 'interp', 'intersect1d', 'intp', 'invert', 'is_available', 'isclose', 'iscomplex',
 'iscomplexobj', 'isdtype', 'isfinite', 'isfortran', 'isin', 'isinf', 'isnan', 'isneginf',
 'isposinf', 'isreal', 'isrealobj', 'isscalar', 'issctype', 'issubclass_', 'issubdtype',
 'issubsctype', 'iterable', 'ix_', 'kaiser', 'kron', 'lcm', 'ldexp', 'left_shift', 'less',
 'less_equal', 'lexsort', 'lib', 'linalg', 'linspace', 'load', 'loadtxt', 'log', 'log10',
 'log1p', 'log2', 'logaddexp', 'logaddexp2', 'logical_and', 'logical_not', 'logical_or',
 'logical_xor', 'logspace', 'long', 'longlong', 'make_aligned_dtype', 'mask_indices', 'matmul',
 'matrix_transpose', 'max', 'maximum', 'may_share_memory', 'mean', 'median', 'memoize',
 'meshgrid', 'mgrid', 'min', 'min_scalar_type', 'minimum', 'mintypecode', 'mod', 'modf',
 'moveaxis', 'msort', 'multiply', 'nan', 'nan_to_num', 'nanargmax', 'nanargmin', 'nancumprod',
 'nancumsum', 'nanmax', 'nanmean', 'nanmedian', 'nanmin', 'nanprod', 'nanstd', 'nansum',
 'nanvar', 'ndarray', 'ndim', 'ndindex', 'negative', 'newaxis', 'nextafter', 'nonzero',
 'not_equal', 'number', 'obj2sctype', 'ogrid', 'ones', 'ones_like', 'outer', 'packbits', 'pad',
 'partition', 'percentile', 'permute_dims', 'pi', 'piecewise', 'place', 'poly', 'poly1d',
 'polyadd', 'polyfit', 'polymul', 'polynomial', 'polysub', 'polyval', 'positive', 'pow',
 'power', 'printoptions', 'prod', 'product', 'promote_types', 'ptp', 'put', 'put_along_axis',
 'putmask', 'quantile', 'r_', 'rad2deg', 'radians', 'random', 'ravel', 'ravel_multi_index',
 'real', 'real_if_close', 'reciprocal', 'remainder', 'repeat', 'require', 'reshape', 'resize',
 'result_type', 'right_shift', 'rint', 'roll', 'rollaxis', 'roots', 'rot90', 'round', 'round_',
 'row_stack', 's_', 'safe_eval', 'save', 'savetxt', 'savez', 'savez_compressed', 'sctype2char',
 'searchsorted', 'select', 'set_printoptions', 'set_string_function', 'setdiff1d', 'setxor1d',
 'shape', 'shares_memory', 'short', 'show_config', 'sign', 'signbit', 'signedinteger', 'sin',
 'sinc', 'single', 'singlecomplex', 'sinh', 'size', 'sometrue', 'sort', 'sort_complex', 'split',
 'sqrt', 'square', 'squeeze', 'stack', 'std', 'subtract', 'sum', 'swapaxes', 'take',
 'take_along_axis', 'tan', 'tanh', 'tensordot', 'testing', 'tile', 'trace', 'transpose',
 'trapezoid', 'trapz', 'tri', 'tril', 'tril_indices', 'tril_indices_from', 'trim_zeros', 'triu',
 'triu_indices', 'triu_indices_from', 'true_divide', 'trunc', 'typename', 'typing', 'ubyte',
 'ufunc', 'uint', 'uint16', 'uint32', 'uint64', 'uint8', 'uintc', 'uintp', 'ulong', 'ulonglong',
 'union1d', 'unique', 'unique_all', 'unique_counts', 'unique_inverse', 'unique_values',
 'unpackbits', 'unravel_index', 'unsignedinteger', 'unwrap', 'ushort', 'vander', 'var', 'vdot',
 'vectorize', 'vsplit', 'vstack', 'where', 'who', 'zeros', 'zeros_like'])
UFUNCS = frozenset(['abs', 'absolute', 'acos', 'acosh', 'add', 'arccos', 'arccosh', 'arcsin', 'arcsinh', 'arctan',
 'arctan2', 'arctanh', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'bitwise_and',
 'bitwise_count', 'bitwise_invert', 'bitwise_left_shift', 'bitwise_not', 'bitwise_or',
 'bitwise_right_shift', 'bitwise_xor', 'cbrt', 'ceil', 'conj', 'conjugate', 'copysign', 'cos',
 'cosh', 'deg2rad', 'degrees', 'divide', 'divmod', 'equal', 'exp', 'exp2', 'expm1', 'fabs',
 'fix', 'float_power', 'floor', 'floor_divide', 'fmax', 'fmin', 'fmod', 'frexp', 'gcd',
 'greater', 'greater_equal', 'heaviside', 'hypot', 'i0', 'invert', 'isfinite', 'isinf', 'isnan',
 'lcm', 'ldexp', 'left_shift', 'less', 'less_equal', 'log', 'log10', 'log1p', 'log2',
 'logaddexp', 'logaddexp2', 'logical_and', 'logical_not', 'logical_or', 'logical_xor',
 'maximum', 'minimum', 'mod', 'modf', 'multiply', 'negative', 'nextafter', 'not_equal',
 'positive', 'pow', 'power', 'rad2deg', 'radians', 'reciprocal', 'remainder', 'right_shift',
 'rint', 'sign', 'signbit', 'sin', 'sinc', 'sinh', 'sqrt', 'square', 'subtract', 'tan', 'tanh',
 'true_divide', 'trunc'])
UFUNC_AT = frozenset(['add', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'maximum', 'minimum', 'subtract'])
NDARRAY = frozenset(['T', '__abs__', '__add__', '__and__', '__array__', '__array_finalize__', '__array_function__',
 '__array_priority__', '__array_ufunc__', '__bool__', '__bytes__', '__class__',
 '__class_getitem__', '__complex__', '__copy__', '__cuda_array_interface__', '__deepcopy__',
 '__delattr__', '__delitem__', '__dir__', '__div__', '__divmod__', '__dlpack__',
 '__dlpack_device__', '__doc__', '__eq__', '__float__', '__floordiv__', '__format__', '__ge__',
 '__getattribute__', '__getitem__', '__getstate__', '__gt__', '__hash__', '__hex__', '__iadd__',
 '__iand__', '__idiv__', '__ifloordiv__', '__ilshift__', '__imod__', '__imul__', '__init__',
 '__init_subclass__', '__int__', '__invert__', '__ior__', '__ipow__', '__irshift__', '__isub__',
 '__iter__', '__itruediv__', '__ixor__', '__le__', '__len__', '__lshift__', '__lt__',
 '__matmul__', '__mod__', '__module__', '__mul__', '__ne__', '__neg__', '__new__', '__oct__',
 '__or__', '__pos__', '__pow__', '__pyx_vtable__', '__radd__', '__rand__', '__rdivmod__',
 '__reduce__', '__reduce_ex__', '__repr__', '__rfloordiv__', '__rlshift__', '__rmatmul__',
 '__rmod__', '__rmul__', '__ror__', '__rpow__', '__rrshift__', '__rshift__', '__rsub__',
 '__rtruediv__', '__rxor__', '__setattr__', '__setitem__', '__sizeof__', '__slots__', '__str__',
 '__sub__', '__subclasshook__', '__truediv__', '__xor__', 'all', 'any', 'argmax', 'argmin',
 'argpartition', 'argsort', 'astype', 'base', 'byteswap', 'choose', 'clip', 'compress', 'conj',
 'conjugate', 'copy', 'cstruct', 'cumprod', 'cumsum', 'data', 'device', 'diagonal', 'dot',
 'dtype', 'dump', 'dumps', 'fill', 'flags', 'flat', 'flatten', 'get', 'imag', 'item',
 'itemsize', 'mT', 'max', 'mdspan', 'mean', 'min', 'nbytes', 'ndim', 'nonzero', 'partition',
 'prod', 'ptp', 'put', 'ravel', 'real', 'reduced_view', 'repeat', 'reshape', 'round',
 'scatter_add', 'scatter_max', 'scatter_min', 'searchsorted', 'set', 'shape', 'size', 'sort',
 'squeeze', 'std', 'strides', 'sum', 'swapaxes', 'take', 'toDlpack', 'tobytes', 'tofile',
 'tolist', 'trace', 'transpose', 'var', 'view'])
RANDOM = frozenset(['BitGenerator', 'MRG32k3a', 'Philox4x3210', 'RandomState', 'XORWOW', 'annotations', 'beta',
 'binomial', 'bytes', 'chisquare', 'choice', 'default_rng', 'dirichlet', 'exponential', 'f',
 'gamma', 'geometric', 'get_random_state', 'gumbel', 'hypergeometric', 'laplace', 'logistic',
 'lognormal', 'logseries', 'multinomial', 'multivariate_normal', 'negative_binomial',
 'noncentral_chisquare', 'noncentral_f', 'normal', 'pareto', 'permutation', 'poisson', 'power',
 'rand', 'randint', 'randn', 'random', 'random_integers', 'random_sample', 'ranf', 'rayleigh',
 'reset_states', 'sample', 'seed', 'set_random_state', 'shuffle', 'standard_cauchy',
 'standard_exponential', 'standard_gamma', 'standard_normal', 'standard_t', 'triangular',
 'uniform', 'vonmises', 'wald', 'weibull', 'zipf'])
GENERATOR = frozenset(['beta', 'binomial', 'chisquare', 'dirichlet', 'exponential', 'f', 'gamma', 'geometric',
 'hypergeometric', 'integers', 'logseries', 'poisson', 'power', 'random',
 'standard_exponential', 'standard_gamma', 'standard_normal', 'uniform'])
LINALG = frozenset(['LinAlgError', 'annotations', 'cholesky', 'cond', 'cross', 'det', 'eig', 'eigh', 'eigvals',
 'eigvalsh', 'inv', 'lstsq', 'matmul', 'matrix_power', 'matrix_rank', 'matrix_transpose',
 'norm', 'pinv', 'qr', 'slogdet', 'solve', 'svd', 'tensorinv', 'tensorsolve'])
FFT = frozenset(['config', 'fft', 'fft2', 'fftfreq', 'fftn', 'fftshift', 'hfft', 'ifft', 'ifft2', 'ifftn',
 'ifftshift', 'ihfft', 'irfft', 'irfft2', 'irfftn', 'rfft', 'rfft2', 'rfftfreq', 'rfftn'])
LIB = frozenset(['stride_tricks'])
STRIDE_TRICKS = frozenset(['annotations', 'as_strided', 'np', 'sliding_window_view'])
# keyword arguments each callable accepts (absent: unknown, or it takes **kwargs)
KWARGS = {
    'all': frozenset(['a', 'axis', 'keepdims', 'out']),
    'allclose': frozenset(['a', 'atol', 'b', 'equal_nan', 'rtol']),
    'alltrue': frozenset(['a', 'axis', 'keepdims', 'out']),
    'amax': frozenset(['a', 'axis', 'keepdims', 'out']),
    'amin': frozenset(['a', 'axis', 'keepdims', 'out']),
    'angle': frozenset(['deg', 'z']),
    'any': frozenset(['a', 'axis', 'keepdims', 'out']),
    'append': frozenset(['arr', 'axis', 'values']),
    'apply_over_axes': frozenset(['a', 'axes', 'func']),
    'arange': frozenset(['dtype', 'start', 'step', 'stop']),
    'argmax': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'argmin': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'argpartition': frozenset(['a', 'axis', 'kth']),
    'argsort': frozenset(['a', 'axis', 'kind']),
    'argwhere': frozenset(['a']),
    'around': frozenset(['a', 'decimals', 'out']),
    'array': frozenset(['blocking', 'copy', 'dtype', 'ndmin', 'obj', 'order', 'subok']),
    'array_equal': frozenset(['a1', 'a2', 'equal_nan']),
    'array_equiv': frozenset(['a1', 'a2']),
    'array_repr': frozenset(['arr', 'max_line_width', 'precision', 'suppress_small']),
    'array_split': frozenset(['ary', 'axis', 'indices_or_sections']),
    'array_str': frozenset(['arr', 'max_line_width', 'precision', 'suppress_small']),
    'asanyarray': frozenset(['a', 'blocking', 'copy', 'dtype', 'order']),
    'asarray': frozenset(['a', 'blocking', 'copy', 'dtype', 'order']),
    'asarray_chkfinite': frozenset(['a', 'dtype', 'order']),
    'ascontiguousarray': frozenset(['a', 'dtype']),
    'asfarray': frozenset(['a', 'dtype']),
    'asfortranarray': frozenset(['a', 'dtype']),
    'asnumpy': frozenset(['a', 'blocking', 'order', 'out', 'stream']),
    'astype': frozenset(['copy']),
    'atleast_1d': frozenset([]),
    'atleast_2d': frozenset([]),
    'atleast_3d': frozenset([]),
    'average': frozenset(['a', 'axis', 'keepdims', 'returned', 'weights']),
    'bartlett': frozenset(['M']),
    'base_repr': frozenset(['base', 'number', 'padding']),
    'binary_repr': frozenset(['num', 'width']),
    'bincount': frozenset(['minlength', 'weights', 'x']),
    'blackman': frozenset(['M']),
    'broadcast_arrays': frozenset([]),
    'broadcast_shapes': frozenset([]),
    'broadcast_to': frozenset(['array', 'shape']),
    'byte_bounds': frozenset(['a']),
    'can_cast': frozenset(['casting', 'from_', 'to']),
    'choose': frozenset(['a', 'choices', 'mode', 'out']),
    'clear_memo': frozenset([]),
    'clip': frozenset(['a', 'a_max', 'a_min', 'out']),
    'column_stack': frozenset(['tup']),
    'common_type': frozenset([]),
    'compress': frozenset(['a', 'axis', 'condition', 'out']),
    'concat': frozenset(['axis', 'casting', 'dtype', 'out', 'tup']),
    'concatenate': frozenset(['axis', 'casting', 'dtype', 'out', 'tup']),
    'convolve': frozenset(['a', 'mode', 'v']),
    'copy': frozenset(['a', 'order']),
    'copyto': frozenset(['casting', 'dst', 'src', 'where']),
    'corrcoef': frozenset(['a', 'bias', 'ddof', 'dtype', 'rowvar', 'y']),
    'correlate': frozenset(['a', 'mode', 'v']),
    'count_nonzero': frozenset(['a', 'axis']),
    'cov': frozenset(['a', 'aweights', 'bias', 'ddof', 'dtype', 'fweights', 'rowvar', 'y']),
    'cross': frozenset(['a', 'axis', 'axisa', 'axisb', 'axisc', 'b']),
    'cumprod': frozenset(['a', 'axis', 'dtype', 'out']),
    'cumproduct': frozenset(['a', 'axis', 'dtype', 'out']),
    'cumsum': frozenset(['a', 'axis', 'dtype', 'out']),
    'cumulative_prod': frozenset(['axis', 'dtype', 'include_initial', 'out']),
    'cumulative_sum': frozenset(['axis', 'dtype', 'include_initial', 'out']),
    'delete': frozenset(['arr', 'axis', 'indices']),
    'diag': frozenset(['k', 'v']),
    'diag_indices': frozenset(['n', 'ndim']),
    'diag_indices_from': frozenset(['arr']),
    'diagflat': frozenset(['k', 'v']),
    'diagonal': frozenset(['a', 'axis1', 'axis2', 'offset']),
    'diff': frozenset(['a', 'append', 'axis', 'n', 'prepend']),
    'digitize': frozenset(['bins', 'right', 'x']),
    'dot': frozenset(['a', 'b', 'out']),
    'dsplit': frozenset(['ary', 'indices_or_sections']),
    'dstack': frozenset(['tup']),
    'ediff1d': frozenset(['arr', 'to_begin', 'to_end']),
    'empty': frozenset(['dtype', 'order', 'shape']),
    'empty_like': frozenset(['dtype', 'order', 'prototype', 'shape', 'subok']),
    'expand_dims': frozenset(['a', 'axis']),
    'extract': frozenset(['a', 'condition']),
    'eye': frozenset(['M', 'N', 'dtype', 'k', 'order']),
    'fft.fft': frozenset(['a', 'axis', 'n', 'norm']),
    'fft.fft2': frozenset(['a', 'axes', 'norm', 's']),
    'fft.fftfreq': frozenset(['d', 'n']),
    'fft.fftn': frozenset(['a', 'axes', 'norm', 's']),
    'fft.fftshift': frozenset(['axes', 'x']),
    'fft.hfft': frozenset(['a', 'axis', 'n', 'norm']),
    'fft.ifft': frozenset(['a', 'axis', 'n', 'norm']),
    'fft.ifft2': frozenset(['a', 'axes', 'norm', 's']),
    'fft.ifftn': frozenset(['a', 'axes', 'norm', 's']),
    'fft.ifftshift': frozenset(['axes', 'x']),
    'fft.ihfft': frozenset(['a', 'axis', 'n', 'norm']),
    'fft.irfft': frozenset(['a', 'axis', 'n', 'norm']),
    'fft.irfft2': frozenset(['a', 'axes', 'norm', 's']),
    'fft.irfftn': frozenset(['a', 'axes', 'norm', 's']),
    'fft.rfft': frozenset(['a', 'axis', 'n', 'norm']),
    'fft.rfft2': frozenset(['a', 'axes', 'norm', 's']),
    'fft.rfftfreq': frozenset(['d', 'n']),
    'fft.rfftn': frozenset(['a', 'axes', 'norm', 's']),
    'fill_diagonal': frozenset(['a', 'val', 'wrap']),
    'flatnonzero': frozenset(['a']),
    'flip': frozenset(['a', 'axis']),
    'fliplr': frozenset(['a']),
    'flipud': frozenset(['a']),
    'fromDlpack': frozenset(['dltensor']),
    'from_dlpack': frozenset(['array', 'copy', 'device']),
    'full': frozenset(['dtype', 'fill_value', 'order', 'shape']),
    'full_like': frozenset(['a', 'dtype', 'fill_value', 'order', 'shape', 'subok']),
    'get_array_module': frozenset([]),
    'get_default_memory_pool': frozenset([]),
    'get_default_pinned_memory_pool': frozenset([]),
    'get_printoptions': frozenset([]),
    'gradient': frozenset(['axis', 'edge_order', 'f']),
    'hamming': frozenset(['M']),
    'hanning': frozenset(['M']),
    'histogram': frozenset(['bins', 'density', 'range', 'weights', 'x']),
    'histogram2d': frozenset(['bins', 'density', 'range', 'weights', 'x', 'y']),
    'histogramdd': frozenset(['bins', 'density', 'range', 'sample', 'weights']),
    'hsplit': frozenset(['ary', 'indices_or_sections']),
    'hstack': frozenset(['casting', 'dtype', 'tup']),
    'identity': frozenset(['dtype', 'n']),
    'imag': frozenset(['val']),
    'in1d': frozenset(['ar1', 'ar2', 'assume_unique', 'invert']),
    'indices': frozenset(['dimensions', 'dtype']),
    'inner': frozenset(['a', 'b']),
    'interp': frozenset(['fp', 'left', 'period', 'right', 'x', 'xp']),
    'intersect1d': frozenset(['arr1', 'arr2', 'assume_unique', 'return_indices']),
    'is_available': frozenset([]),
    'isclose': frozenset(['a', 'atol', 'b', 'equal_nan', 'rtol']),
    'iscomplex': frozenset(['x']),
    'iscomplexobj': frozenset(['x']),
    'isdtype': frozenset(['dtype', 'kind']),
    'isfortran': frozenset(['a']),
    'isin': frozenset(['assume_unique', 'element', 'invert', 'test_elements']),
    'isneginf': frozenset(['out', 'x']),
    'isposinf': frozenset(['out', 'x']),
    'isreal': frozenset(['x']),
    'isrealobj': frozenset(['x']),
    'isscalar': frozenset(['element']),
    'issctype': frozenset(['rep']),
    'issubclass_': frozenset(['arg1', 'arg2']),
    'issubdtype': frozenset(['arg1', 'arg2']),
    'issubsctype': frozenset(['arg1', 'arg2']),
    'iterable': frozenset(['y']),
    'ix_': frozenset([]),
    'kaiser': frozenset(['M', 'beta']),
    'kron': frozenset(['a', 'b']),
    'lexsort': frozenset(['keys']),
    'lib.stride_tricks.as_strided': frozenset(['shape', 'strides', 'x']),
    'lib.stride_tricks.sliding_window_view': frozenset(['axis', 'subok', 'window_shape', 'writeable', 'x']),
    'linalg.cholesky': frozenset(['a']),
    'linalg.cond': frozenset(['p', 'x']),
    'linalg.cross': frozenset(['axis']),
    'linalg.det': frozenset(['a']),
    'linalg.eig': frozenset(['a']),
    'linalg.eigh': frozenset(['UPLO', 'a']),
    'linalg.eigvals': frozenset(['a']),
    'linalg.eigvalsh': frozenset(['UPLO', 'a']),
    'linalg.inv': frozenset(['a']),
    'linalg.lstsq': frozenset(['a', 'b', 'rcond']),
    'linalg.matmul': frozenset(['axes', 'axis', 'casting', 'dtype', 'keepdims', 'order', 'out', 'signature']),
    'linalg.matrix_power': frozenset(['M', 'n']),
    'linalg.matrix_rank': frozenset(['M', 'tol']),
    'linalg.matrix_transpose': frozenset(['a']),
    'linalg.norm': frozenset(['axis', 'keepdims', 'ord', 'x']),
    'linalg.pinv': frozenset(['a', 'rcond']),
    'linalg.qr': frozenset(['a', 'mode']),
    'linalg.slogdet': frozenset(['a']),
    'linalg.solve': frozenset(['a', 'b']),
    'linalg.svd': frozenset(['a', 'compute_uv', 'full_matrices']),
    'linalg.tensorinv': frozenset(['a', 'ind']),
    'linalg.tensorsolve': frozenset(['a', 'axes', 'b']),
    'linspace': frozenset(['axis', 'dtype', 'endpoint', 'num', 'retstep', 'start', 'stop']),
    'load': frozenset(['allow_pickle', 'file', 'mmap_mode']),
    'logspace': frozenset(['axis', 'base', 'dtype', 'endpoint', 'num', 'start', 'stop']),
    'make_aligned_dtype': frozenset(['alignment', 'dtype', 'recurse']),
    'mask_indices': frozenset(['k', 'mask_func', 'n']),
    'matmul': frozenset(['axes', 'axis', 'casting', 'dtype', 'keepdims', 'order', 'out', 'signature']),
    'matrix_transpose': frozenset([]),
    'max': frozenset(['a', 'axis', 'keepdims', 'out']),
    'may_share_memory': frozenset(['a', 'b', 'max_work']),
    'mean': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'median': frozenset(['a', 'axis', 'keepdims', 'out', 'overwrite_input']),
    'memoize': frozenset(['for_each_device']),
    'min': frozenset(['a', 'axis', 'keepdims', 'out']),
    'min_scalar_type': frozenset(['a']),
    'mintypecode': frozenset(['default', 'typechars', 'typeset']),
    'moveaxis': frozenset(['a', 'destination', 'source']),
    'msort': frozenset(['a']),
    'nan_to_num': frozenset(['copy', 'nan', 'neginf', 'posinf', 'x']),
    'nanargmax': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'nanargmin': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'nancumprod': frozenset(['a', 'axis', 'dtype', 'out']),
    'nancumsum': frozenset(['a', 'axis', 'dtype', 'out']),
    'nanmax': frozenset(['a', 'axis', 'keepdims', 'out']),
    'nanmean': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'nanmedian': frozenset(['a', 'axis', 'keepdims', 'out', 'overwrite_input']),
    'nanmin': frozenset(['a', 'axis', 'keepdims', 'out']),
    'nanprod': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'nanstd': frozenset(['a', 'axis', 'ddof', 'dtype', 'keepdims', 'out']),
    'nansum': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'nanvar': frozenset(['a', 'axis', 'ddof', 'dtype', 'keepdims', 'out']),
    'ndarray.all': frozenset(['axis', 'keepdims', 'out']),
    'ndarray.any': frozenset(['axis', 'keepdims', 'out']),
    'ndarray.argmax': frozenset(['axis', 'dtype', 'keepdims', 'out']),
    'ndarray.argmin': frozenset(['axis', 'dtype', 'keepdims', 'out']),
    'ndarray.argpartition': frozenset(['axis', 'kth']),
    'ndarray.argsort': frozenset(['axis', 'kind']),
    'ndarray.astype': frozenset(['casting', 'copy', 'dtype', 'order', 'subok']),
    'ndarray.byteswap': frozenset(['inplace']),
    'ndarray.choose': frozenset(['choices', 'mode', 'out']),
    'ndarray.clip': frozenset(['max', 'min', 'out']),
    'ndarray.compress': frozenset(['axis', 'condition', 'out']),
    'ndarray.conj': frozenset([]),
    'ndarray.conjugate': frozenset([]),
    'ndarray.copy': frozenset(['order']),
    'ndarray.cumprod': frozenset(['axis', 'dtype', 'out']),
    'ndarray.cumsum': frozenset(['axis', 'dtype', 'out']),
    'ndarray.diagonal': frozenset(['axis1', 'axis2', 'offset']),
    'ndarray.dot': frozenset(['b', 'out']),
    'ndarray.dump': frozenset(['file']),
    'ndarray.dumps': frozenset([]),
    'ndarray.fill': frozenset(['value']),
    'ndarray.flatten': frozenset(['order']),
    'ndarray.get': frozenset(['blocking', 'order', 'out', 'stream']),
    'ndarray.item': frozenset([]),
    'ndarray.max': frozenset(['axis', 'keepdims', 'out']),
    'ndarray.mdspan': frozenset(['allow_unsafe', 'index_type']),
    'ndarray.mean': frozenset(['axis', 'dtype', 'keepdims', 'out']),
    'ndarray.min': frozenset(['axis', 'keepdims', 'out']),
    'ndarray.nonzero': frozenset([]),
    'ndarray.partition': frozenset(['axis', 'kth']),
    'ndarray.prod': frozenset(['axis', 'dtype', 'keepdims', 'out']),
    'ndarray.ptp': frozenset(['axis', 'keepdims', 'out']),
    'ndarray.put': frozenset(['indices', 'mode', 'values']),
    'ndarray.ravel': frozenset(['order']),
    'ndarray.reduced_view': frozenset(['dtype']),
    'ndarray.repeat': frozenset(['axis', 'repeats']),
    'ndarray.reshape': frozenset(['copy', 'order']),
    'ndarray.round': frozenset(['decimals', 'out']),
    'ndarray.scatter_add': frozenset(['slices', 'value']),
    'ndarray.scatter_max': frozenset(['slices', 'value']),
    'ndarray.scatter_min': frozenset(['slices', 'value']),
    'ndarray.searchsorted': frozenset(['side', 'sorter', 'v']),
    'ndarray.set': frozenset(['arr', 'stream']),
    'ndarray.sort': frozenset(['axis', 'kind']),
    'ndarray.squeeze': frozenset(['axis']),
    'ndarray.std': frozenset(['axis', 'ddof', 'dtype', 'keepdims', 'out']),
    'ndarray.sum': frozenset(['axis', 'dtype', 'keepdims', 'out']),
    'ndarray.swapaxes': frozenset(['axis1', 'axis2']),
    'ndarray.take': frozenset(['axis', 'indices', 'out']),
    'ndarray.toDlpack': frozenset([]),
    'ndarray.tobytes': frozenset(['order']),
    'ndarray.tofile': frozenset(['fid', 'format', 'sep']),
    'ndarray.tolist': frozenset([]),
    'ndarray.trace': frozenset(['axis1', 'axis2', 'dtype', 'offset', 'out']),
    'ndarray.transpose': frozenset([]),
    'ndarray.var': frozenset(['axis', 'ddof', 'dtype', 'keepdims', 'out']),
    'ndarray.view': frozenset(['dtype', 'type']),
    'ndim': frozenset(['a']),
    'nonzero': frozenset(['a']),
    'obj2sctype': frozenset(['default', 'rep']),
    'ones': frozenset(['dtype', 'order', 'shape']),
    'ones_like': frozenset(['a', 'dtype', 'order', 'shape', 'subok']),
    'outer': frozenset(['a', 'b', 'out']),
    'packbits': frozenset(['a', 'axis', 'bitorder']),
    'partition': frozenset(['a', 'axis', 'kth']),
    'percentile': frozenset(['a', 'axis', 'interpolation', 'keepdims', 'method', 'out', 'overwrite_input', 'q']),
    'permute_dims': frozenset(['a', 'axes']),
    'piecewise': frozenset(['condlist', 'funclist', 'x']),
    'place': frozenset(['arr', 'mask', 'vals']),
    'poly': frozenset(['seq_of_zeros']),
    'polyadd': frozenset(['a1', 'a2']),
    'polyfit': frozenset(['cov', 'deg', 'full', 'rcond', 'w', 'x', 'y']),
    'polymul': frozenset(['a1', 'a2']),
    'polysub': frozenset(['a1', 'a2']),
    'polyval': frozenset(['p', 'x']),
    'prod': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'product': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'promote_types': frozenset([]),
    'ptp': frozenset(['a', 'axis', 'keepdims', 'out']),
    'put': frozenset(['a', 'ind', 'mode', 'v']),
    'put_along_axis': frozenset(['arr', 'axis', 'indices', 'values']),
    'putmask': frozenset(['a', 'mask', 'values']),
    'quantile': frozenset(['a', 'axis', 'interpolation', 'keepdims', 'method', 'out', 'overwrite_input', 'q']),
    'random.Generator.beta': frozenset(['a', 'b', 'dtype', 'size']),
    'random.Generator.binomial': frozenset(['n', 'p', 'size']),
    'random.Generator.chisquare': frozenset(['df', 'size']),
    'random.Generator.dirichlet': frozenset(['alpha', 'size']),
    'random.Generator.exponential': frozenset(['scale', 'size']),
    'random.Generator.f': frozenset(['dfden', 'dfnum', 'size']),
    'random.Generator.gamma': frozenset(['scale', 'shape', 'size']),
    'random.Generator.geometric': frozenset(['p', 'size']),
    'random.Generator.hypergeometric': frozenset(['nbad', 'ngood', 'nsample', 'size']),
    'random.Generator.integers': frozenset(['dtype', 'endpoint', 'high', 'low', 'size']),
    'random.Generator.logseries': frozenset(['p', 'size']),
    'random.Generator.poisson': frozenset(['lam', 'size']),
    'random.Generator.power': frozenset(['a', 'size']),
    'random.Generator.random': frozenset(['dtype', 'out', 'size']),
    'random.Generator.standard_exponential': frozenset(['dtype', 'method', 'out', 'size']),
    'random.Generator.standard_gamma': frozenset(['dtype', 'out', 'shape', 'size']),
    'random.Generator.standard_normal': frozenset(['dtype', 'out', 'size']),
    'random.Generator.uniform': frozenset(['dtype', 'high', 'low', 'size']),
    'ravel': frozenset(['a', 'order']),
    'ravel_multi_index': frozenset(['dims', 'mode', 'multi_index', 'order']),
    'real': frozenset(['val']),
    'real_if_close': frozenset(['a', 'tol']),
    'repeat': frozenset(['a', 'axis', 'repeats']),
    'require': frozenset(['a', 'dtype', 'requirements']),
    'reshape': frozenset(['a', 'copy', 'newshape', 'order']),
    'resize': frozenset(['a', 'new_shape']),
    'result_type': frozenset([]),
    'roll': frozenset(['a', 'axis', 'shift']),
    'rollaxis': frozenset(['a', 'axis', 'start']),
    'roots': frozenset(['p']),
    'rot90': frozenset(['a', 'axes', 'k']),
    'round': frozenset(['a', 'decimals', 'out']),
    'round_': frozenset(['a', 'decimals', 'out']),
    'row_stack': frozenset(['casting', 'dtype', 'tup']),
    'save': frozenset(['allow_pickle', 'arr', 'file']),
    'sctype2char': frozenset(['sctype']),
    'searchsorted': frozenset(['a', 'side', 'sorter', 'v']),
    'select': frozenset(['choicelist', 'condlist', 'default']),
    'set_printoptions': frozenset(['edgeitems', 'floatmode', 'formatter', 'infstr', 'legacy', 'linewidth', 'nanstr', 'override_repr', 'precision', 'sign', 'suppress', 'threshold']),
    'setdiff1d': frozenset(['ar1', 'ar2', 'assume_unique']),
    'setxor1d': frozenset(['ar1', 'ar2', 'assume_unique']),
    'shape': frozenset(['a']),
    'shares_memory': frozenset(['a', 'b', 'max_work']),
    'show_config': frozenset(['_full']),
    'size': frozenset(['a', 'axis']),
    'sometrue': frozenset(['a', 'axis', 'keepdims', 'out']),
    'sort': frozenset(['a', 'axis', 'kind']),
    'sort_complex': frozenset(['a']),
    'split': frozenset(['ary', 'axis', 'indices_or_sections']),
    'squeeze': frozenset(['a', 'axis']),
    'stack': frozenset(['axis', 'casting', 'dtype', 'out', 'tup']),
    'std': frozenset(['a', 'axis', 'ddof', 'dtype', 'keepdims', 'out']),
    'sum': frozenset(['a', 'axis', 'dtype', 'keepdims', 'out']),
    'swapaxes': frozenset(['a', 'axis1', 'axis2']),
    'take': frozenset(['a', 'axis', 'indices', 'out']),
    'take_along_axis': frozenset(['a', 'axis', 'indices']),
    'tensordot': frozenset(['a', 'axes', 'b']),
    'tile': frozenset(['A', 'reps']),
    'trace': frozenset(['a', 'axis1', 'axis2', 'dtype', 'offset', 'out']),
    'transpose': frozenset(['a', 'axes']),
    'trapezoid': frozenset(['axis', 'dx', 'x', 'y']),
    'trapz': frozenset(['axis', 'dx', 'x', 'y']),
    'tri': frozenset(['M', 'N', 'dtype', 'k']),
    'tril': frozenset(['k', 'm']),
    'tril_indices': frozenset(['k', 'm', 'n']),
    'tril_indices_from': frozenset(['arr', 'k']),
    'trim_zeros': frozenset(['filt', 'trim']),
    'triu': frozenset(['k', 'm']),
    'triu_indices': frozenset(['k', 'm', 'n']),
    'triu_indices_from': frozenset(['arr', 'k']),
    'typename': frozenset(['char']),
    'ufunc': frozenset(['casting', 'dtype', 'out']),
    'union1d': frozenset(['arr1', 'arr2']),
    'unique': frozenset(['ar', 'axis', 'equal_nan', 'return_counts', 'return_index', 'return_inverse']),
    'unique_all': frozenset(['x']),
    'unique_counts': frozenset(['x']),
    'unique_inverse': frozenset(['x']),
    'unique_values': frozenset(['x']),
    'unpackbits': frozenset(['a', 'axis', 'bitorder']),
    'unravel_index': frozenset(['dims', 'indices', 'order']),
    'unwrap': frozenset(['axis', 'discont', 'p', 'period']),
    'vander': frozenset(['N', 'increasing', 'x']),
    'var': frozenset(['a', 'axis', 'ddof', 'dtype', 'keepdims', 'out']),
    'vdot': frozenset(['a', 'b']),
    'vsplit': frozenset(['ary', 'indices_or_sections']),
    'vstack': frozenset(['casting', 'dtype', 'tup']),
    'where': frozenset(['condition', 'x', 'y']),
    'who': frozenset(['vardict']),
    'zeros': frozenset(['dtype', 'order', 'shape']),
    'zeros_like': frozenset(['a', 'dtype', 'order', 'shape', 'subok']),
}
# ---- END DATA ----
# fmt: on


def _generate():
    """The DATA section for the installed CuPy (import works without a GPU)."""
    import pprint

    import cupy

    def pub(obj):
        return sorted(n for n in dir(obj) if not n.startswith("_"))

    ufuncs = sorted(n for n in pub(cupy) if isinstance(getattr(cupy, n), cupy.ufunc))
    data = {
        "CUPY_VERSION": cupy.__version__,
        "TOP": pub(cupy),
        "UFUNCS": ufuncs,
        "UFUNC_AT": sorted(n for n in ufuncs if getattr(cupy, n)._scatter_op is not None),
        "NDARRAY": sorted(n for n in dir(cupy.ndarray) if not n.startswith("_") or
                          (n.startswith("__") and n.endswith("__"))),
        "RANDOM": pub(cupy.random),
        "GENERATOR": pub(cupy.random.Generator),
        "LINALG": pub(cupy.linalg),
        "FFT": pub(cupy.fft),
        "LIB": pub(cupy.lib),
        "STRIDE_TRICKS": pub(cupy.lib.stride_tricks),
    }
    out = []
    for k, v in data.items():
        if isinstance(v, str):
            out.append("%s = %r\n" % (k, v))
        else:
            out.append("%s = frozenset(%s)\n" % (k, pprint.pformat(v, width=96, compact=True)))
    kw = _keywords(cupy)
    out.append("# keyword arguments each callable accepts (absent: unknown, or it takes **kwargs)\n")
    out.append("KWARGS = {\n")
    for k in sorted(kw):
        out.append("    %r: frozenset(%r),\n" % (k, sorted(kw[k])))
    out.append("}\n")
    return "".join(out)


def _keywords(cupy):
    """{'pad': {...}, 'ndarray.sum': {...}, 'ufunc': {...}, 'random.Generator.integers': ...,
    'linalg.norm': ...}: the parameter names a caller may pass by keyword."""
    import inspect
    import re

    def from_signature(f):
        try:
            sig = inspect.signature(f)
        except (TypeError, ValueError):
            return from_doc(f)
        names = set()
        for p in sig.parameters.values():
            if p.kind is p.VAR_KEYWORD:
                return None
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                names.add(p.name)
        return names

    def from_doc(f):
        doc = (getattr(f, "__doc__", None) or "").strip().splitlines()
        m = re.match(r"^[\w.]*?(\w+)\((.*)\)", doc[0]) if doc else None
        if not m:
            return None
        names = set()
        positional_only = False
        for tok in m.group(2).split(","):
            tok = tok.strip().split("=")[0].strip()
            if tok.startswith("\\"):
                tok = tok[1:]
            if tok == "/":
                names.clear()             # everything before '/' was positional-only
                continue
            if tok.startswith("**"):
                return None
            if not tok or tok.startswith("*"):
                continue
            name = tok.split()[-1]
            if name != "self" and re.match(r"^\w+$", name):
                names.add(name)
        return None if positional_only else names

    out = {}

    def add(key, f):
        names = from_signature(f)
        if names is not None:
            out[key] = names

    for n in dir(cupy):
        f = getattr(cupy, n, None)
        if n.startswith("_") or isinstance(f, type) or not callable(f):
            continue
        if isinstance(f, cupy.ufunc):
            continue
        add(n, f)
    out["ufunc"] = from_doc(cupy.add)
    for n in dir(cupy.ndarray):
        if not n.startswith("_") and callable(getattr(cupy.ndarray, n)):
            names = from_doc(getattr(cupy.ndarray, n))
            if names is not None:
                out["ndarray." + n] = names
    for n in dir(cupy.random.Generator):
        if not n.startswith("_"):
            names = from_doc(getattr(cupy.random.Generator, n))
            if names is not None:
                out["random.Generator." + n] = names
    for mod, prefix in ((cupy.linalg, "linalg."), (cupy.fft, "fft."),
                        (cupy.lib.stride_tricks, "lib.stride_tricks.")):
        for n in dir(mod):
            f = getattr(mod, n)
            if not n.startswith("_") and callable(f) and not isinstance(f, type):
                add(prefix + n, f)
    return out


if __name__ == "__main__":

    path = __file__
    with open(path) as f:
        src = f.read()
    start = "# ---- DATA (generated) ----\n"
    end = "# ---- END DATA ----\n"
    i, j = src.index(start) + len(start), src.index(end)
    with open(path, "w") as f:
        f.write(src[:i] + _generate() + src[j:])
    print("wrote", path)

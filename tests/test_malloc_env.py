"""npconv tunes glibc's malloc so that big arrays are reused from the heap instead of mapped
afresh (npconv/_malloc_env.py explains why), unless told not to."""
import os
import subprocess
import sys

import pytest

from npconv import _malloc_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Libc:
    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return 1


def test_apply_sets_both_thresholds():
    libc = _Libc()
    assert _malloc_env.apply({}, libc)
    assert libc.calls == [(-3, 32 << 20), (-1, 256 << 20)]


@pytest.mark.parametrize("env", [{"NPCONV_MALLOC_TUNING": "0"},
                                 {"MALLOC_MMAP_THRESHOLD_": "131072"},
                                 {"MALLOC_TRIM_THRESHOLD_": "0"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}])
def test_apply_leaves_malloc_alone_when_told_or_tuned_by_the_user(env):
    libc = _Libc()
    assert not _malloc_env.apply(env, libc)
    assert libc.calls == []


def test_unrelated_glibc_tunables_do_not_count_as_tuning_malloc():
    libc = _Libc()
    assert _malloc_env.apply({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2"}, libc)


_FAULTS = """
import resource, npconv, numpy as np
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(1 << 20, np.float32); b = np.ones(3 << 18, np.float32); del a, b
f0 = faults()
for _ in range(20):
    a = np.ones(1 << 20, np.float32)      # 4 MiB
    b = np.ones(3 << 18, np.float32)      # 3 MiB
    del a, b
print(npconv._malloc_env.APPLIED, faults() - f0)
"""


@pytest.mark.skipif(_malloc_env._glibc() is None, reason="glibc only")
def test_fresh_big_arrays_do_not_page_fault_again():
    """Fresh 4 and 3 MiB arrays, 20 times after the first: over a thousand page faults with
    glibc's defaults (measured 1,249), none when the blocks come back from the heap."""
    def run(**extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MALLOC_", "NPCONV_MALLOC"))}
        env.update(extra)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        out = subprocess.run([sys.executable, "-c", _FAULTS], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        return out[0] == "True", int(out[1])
    applied, tuned = run()
    assert applied and tuned < 100
    applied, default = run(NPCONV_MALLOC_TUNING="0")
    assert not applied and default > 500

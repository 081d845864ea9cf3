import ctypes
import ctypes.util
import platform

from imgopt.bootstrap.tuning import keep_freed_memory


def test_freed_memory_is_kept_on_glibc():
    glibc = platform.libc_ver()[0] == "glibc" and ctypes.util.find_library("c") is not None

    assert keep_freed_memory() is glibc

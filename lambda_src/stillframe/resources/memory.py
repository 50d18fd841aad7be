"""Keep freed decode and render buffers in the process instead of handing them back to the kernel after every GOP.

Every GOP gets a fresh decoder and every still a fresh scaled picture: megabytes allocated and freed many times
a page. With glibc's defaults (a dynamic mmap threshold, a 128 KiB trim threshold) most of that memory went back
to the kernel on free and came back as new zeroed pages on the next allocation: ~75,000 minor page faults for a
25-image 1080p page, ~2.5 us each on this kind of VM, about 12% of the page's time. Large blocks are therefore
taken from the heap up to 32 MiB (a 4K picture is 12 MiB) and the heap is trimmed only past 64 MiB of free
space; a page then faults a few hundred times. Peak memory is unchanged (the same buffers, reused); what stays
resident between requests is at most the trim threshold per malloc arena.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

# mallopt(3) parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest allowed value (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024

_done = False
_lock = threading.Lock()


def keep_freed_buffers() -> bool:
    """Set glibc's mmap and trim thresholds once per process; False where the C library is not glibc."""
    global _done
    with _lock:
        if _done:
            return True
        mallopt = _mallopt()
        if mallopt is None:
            return False
        ok = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
            mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
        )
        if not ok:
            logger.warning("mallopt refused the thresholds; freed buffers go back to the kernel")
        _done = ok
        return ok


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None (musl and macOS have other allocators, which these parameters do not tune)."""
    try:
        process = ctypes.CDLL(None)  # the symbols already loaded: libc's, without searching for it (ldconfig)
        process.gnu_get_libc_version  # noqa: B018 - glibc only
        mallopt = process.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt

"""Which downloadable model to suggest on this machine, and whether the model hub can be reached.

The choice is made from the catalog's own fields (``catalog.json``): an entry's CPU cost tier (the first word
of ``cpu``: fast, medium or slow) must suit the machine, and among those the best ``imagenet_zero_shot``
(published ImageNet zero-shot top-1, a comparable number for every family) wins, the smaller download on a
tie. Entries without that number, not searchable ones and the packaged starter are never suggested.

Machines: a GPU, or at least 8 CPU cores with 16 GiB of RAM, runs a base ViT-B/16 (SigLIP 2, SigLIP, CLIP
B/16) at a useful indexing rate; smaller CPUs get the fast ViT-B/32; under 4 GiB of RAM nothing is suggested
(the starter stays). Core counts stand in for CPU speed: a benchmark at first start would cost more than it
tells. Light: no torch import except in :func:`this_machine`'s GPU check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from photosearch.model.catalog import CatalogEntry, load_catalog

GiB = 1 << 30
MIN_RAM = 4 * GiB
STRONG_CORES, STRONG_RAM = 8, 16 * GiB
PROBE_TIMEOUT_S = 3.0
ENV_PROBE = "PHOTOSEARCH_HUB_PROBE"  # URL to probe instead of the hub ($HF_ENDPOINT); "off": never probe


@dataclass(frozen=True)
class Machine:
    """The facts the suggestion depends on."""

    cpu_cores: int
    ram_bytes: int
    gpu: bool = False

    @property
    def strong(self) -> bool:
        return self.gpu or (self.cpu_cores >= STRONG_CORES and self.ram_bytes >= STRONG_RAM)


def this_machine() -> Machine:
    """This computer: usable CPU cores, physical RAM (0 when unknown) and whether torch sees a GPU."""
    from photosearch.device import available_devices

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # Windows
        ram = _windows_ram()
    return Machine(cpu_cores=cores, ram_bytes=ram, gpu=available_devices()[0] != "cpu")


def _windows_ram() -> int:
    try:
        import ctypes

        class MemoryStatus(ctypes.Structure):
            _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                        ("ullTotalPhys", ctypes.c_ulonglong), ("rest", ctypes.c_ulonglong * 6)]

        st = MemoryStatus(dwLength=ctypes.sizeof(MemoryStatus))
        ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(st))  # type: ignore[attr-defined]
        return int(st.ullTotalPhys)
    except Exception:  # noqa: BLE001 - unknown RAM: treated as small
        return 0


def cost_tier(entry: CatalogEntry) -> str:
    """``fast``, ``medium`` or ``slow``: the first word of the entry's ``cpu`` note."""
    return entry.cpu.split(":", 1)[0].strip().lower()


def recommend(machine: Machine, catalog: dict[str, CatalogEntry] | None = None) -> CatalogEntry | None:
    """The catalog model to suggest on ``machine`` (None: none fits, keep the starter)."""
    if machine.ram_bytes < MIN_RAM and not machine.gpu:
        return None
    tiers = ("fast", "medium") if machine.strong else ("fast",)
    fits = [e for e in (catalog or load_catalog()).values()
            if e.searchable and e.hub_repo and e.imagenet_zero_shot and cost_tier(e) in tiers]
    return max(fits, key=lambda e: (e.imagenet_zero_shot, -e.download_bytes), default=None)


def probe_url() -> str | None:
    """What :func:`hub_reachable` connects to: ``$PHOTOSEARCH_HUB_PROBE``, else the hub downloads use; None
    when probing is off (``PHOTOSEARCH_HUB_PROBE=off`` or ``HF_HUB_OFFLINE``)."""
    from photosearch.model.download import _endpoint, _offline

    override = os.environ.get(ENV_PROBE, "").strip()
    if override.lower() in ("off", "0", "no", "false"):
        return None
    if override:
        return override
    return None if _offline() else _endpoint()


def hub_reachable(url: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether an HTTP HEAD to ``url`` (default :func:`probe_url`) gets any answer within ``timeout`` seconds
    (a 404 counts: the server is there). Blocking: call it on a worker thread."""
    import urllib.error
    import urllib.request

    url = url or probe_url()
    if not url:
        return False
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False

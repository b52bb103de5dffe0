"""PyInstaller runtime hook: let torchvision import when its compiled ops cannot load.

torchvision's Python code registers fake kernels for ``torchvision::nms``/``qnms`` without checking that its
C extension loaded (torchvision 0.2x, ``_meta_registrations.py``), so ``import torchvision`` (and with it
``import timm``) raises "operator torchvision::nms does not exist" when the extension is unusable: for
example a CPU-only torch next to a CUDA build of torchvision, which is what a CPU bundle gets where no
``torchvision+cpu`` wheel is at hand. PhotoSearch uses no torchvision ops (only the ImageNet class names
and transforms), so declaring the two schemas, without kernels, is enough. Nothing happens when the
extension loaded, and torch is not imported before torchvision is (the GUI's start stays fast).
"""

import importlib.abc
import sys


class _DeclareMissingTorchvisionOps(importlib.abc.MetaPathFinder):
    library = None  # keeps the torch.library.Library (and so the declarations) alive

    def find_spec(self, name, path=None, target=None):
        if name != "torchvision._meta_registrations":
            return None
        sys.meta_path.remove(self)
        try:
            import torch
            import torchvision.extension

            if not torchvision.extension._has_ops():
                lib = torch.library.Library("torchvision", "DEF")
                for op in ("nms", "qnms"):
                    lib.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
                type(self).library = lib
        except Exception:  # noqa: BLE001 - never worse than without the hook
            pass
        return None  # the normal import machinery loads the module


sys.meta_path.insert(0, _DeclareMissingTorchvisionOps())

"""How long a fine-tuning run will take, from throughput measured on a CPU (README "Expected times",
``benchmarks/bench_train.py``: starter model, batch 16, 2-core CPU). Shown before Start so nobody begins a
multi-hour full fine-tune on a laptop by accident."""

from __future__ import annotations

from dataclasses import dataclass

# images/s measured by benchmarks/bench_train.py on 2026-11-27 (2-core AMD EPYC, shared: lower bounds)
CPU_FEATURE_PASS = 9.1  # frozen encoders: one pass over every image with the eval transform (towers only)
CPU_HEADS_EPOCH = 437.0  # frozen encoders: an epoch over cached features
CPU_FULL_TRAIN = 2.5  # full fine-tune: forward + backward through both towers
CPU_EVAL = CPU_FEATURE_PASS  # a full-model validation pass runs the towers as the feature pass does

FLICKR8K_SPLITS = (6000, 1000)  # train, val images of Flickr8k's Karpathy split (before a data set is read)


@dataclass
class TrainEstimate:
    seconds: float  # the whole run
    first_pass: float  # of which the one-time feature pass (frozen encoders), 0 otherwise
    per_epoch: float


def estimate_cpu(n_train: int, n_val: int, epochs: int, freeze_encoders: bool,
                 zero_shot: bool = True) -> TrainEstimate:
    """Seconds for a run on a CPU like the one measured: images / measured images-per-second for each phase."""
    if freeze_encoders:
        first = (n_train + n_val) / CPU_FEATURE_PASS
        per_epoch = n_train / CPU_HEADS_EPOCH  # validation through the heads is instant
        return TrainEstimate(first + epochs * per_epoch, first, per_epoch)
    per_epoch = n_train / CPU_FULL_TRAIN + n_val / CPU_EVAL
    zs = n_val / CPU_EVAL if zero_shot else 0.0
    return TrainEstimate(zs + epochs * per_epoch, 0.0, per_epoch)

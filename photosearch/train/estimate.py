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

# Fixed costs no per-image rate covers, measured by benchmarks/bench_finetune_estimate.py on 2026-12-02 (same
# machine, load ~4): without them a short run's estimate was a third of its real time (5.4 s vs 15.6 s heads
# only, 33 s vs 111 s full, 60 photos; issue #20: 1:27 shown, 5:15 taken).
START_S = 9.0  # loading the base model and reading the captions (both modes)
FULL_START_S = 40.0  # full fine-tune: optimizer, loaders and the first batches' warm-up before the rates hold
FINISH_S = 3.0  # saving the best epoch and publishing it as a model

FLICKR8K_SPLITS = (6000, 1000)  # train, val images of Flickr8k's Karpathy split (before a data set is read)


@dataclass
class TrainEstimate:
    seconds: float  # the whole run
    first_pass: float  # of which the one-time feature pass (frozen encoders), 0 otherwise
    per_epoch: float


def estimate_cpu(n_train: int, n_val: int, epochs: int, freeze_encoders: bool,
                 zero_shot: bool = True) -> TrainEstimate:
    """Seconds for a run on a CPU like the one measured: the fixed start and finish, plus images / measured
    images-per-second for each phase."""
    if freeze_encoders:
        first = (n_train + n_val) / CPU_FEATURE_PASS
        per_epoch = n_train / CPU_HEADS_EPOCH  # validation through the heads is instant
        return TrainEstimate(START_S + first + epochs * per_epoch + FINISH_S, first, per_epoch)
    per_epoch = n_train / CPU_FULL_TRAIN + n_val / CPU_EVAL
    zs = n_val / CPU_EVAL if zero_shot else 0.0
    return TrainEstimate(START_S + FULL_START_S + zs + epochs * per_epoch + FINISH_S, 0.0, per_epoch)

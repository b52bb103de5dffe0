#!/usr/bin/env bash
# Training throughput and a short real training run on a CUDA GPU. Run from the repository root in an
# environment where the project is installed (pip install -e ".[dev]"); no network is needed (the starter
# model and the synthetic data set are built locally). Results: a table per step on stdout and JSON lines in
# ${OUT:-bench-out}/train-gpu.jsonl. About 3-5 minutes on an H100 (mostly building the starter model once).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUTDIR=${OUT:-bench-out}
mkdir -p "$OUTDIR"
export PHOTOSEARCH_HOME=${PHOTOSEARCH_HOME:-$(mktemp -d /tmp/ps-gpu-home.XXXX)} HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
RES="$OUTDIR/train-gpu.jsonl"
: > "$RES"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA'; print('torch', torch.__version__, torch.cuda.get_device_name(0))"

# 1. Throughput, frozen vs full fine-tune: AMP + channels-last, batch 128, then 256; AMP off for comparison.
for args in "--gpu" "--gpu --batch-size 256" "--gpu --no-amp"; do
  echo "== bench_train.py $args"
  $PY benchmarks/bench_train.py $args --steps 20 | tee /dev/stderr | tail -n 1 >> "$RES"
done

# 2. A real (short) run through the CLI on the GPU: frozen, then full, on a synthetic set; prints recall.
DATA=$(mktemp -d /tmp/ps-gpu-data.XXXX)
$PY -c "from photosearch.train.synthetic import make_shapes_dataset as m; m('$DATA', n_images=1200, size=256)"
for mode in "--freeze-encoders" ""; do
  echo "== photosearch train $mode"
  /usr/bin/time -f "%e s wall" $PY -m photosearch train --data "$DATA" --base starter --epochs 3 --batch-size 128 \
      --device cuda --workers 4 $mode --name "gpu-check${mode:+-frozen}" --json | tail -n 1 >> "$RES"
done
echo "results in $RES"

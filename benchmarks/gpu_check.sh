#!/usr/bin/env bash
# The GPU checks of one lent accelerator session (about 8 minutes on an H100/H200), all results under one folder:
#   bash benchmarks/gpu_check.sh [OUT]            # on the GPU machine; OUT defaults to results/gpu-check
#   DEVICE=cpu QUICK=1 bash benchmarks/gpu_check.sh /tmp/gpu-check   # the same commands on a CPU, in seconds
# 1. the smoke suite on the device; 2. throughput at paper scale (bf16 autocast on CUDA, MFU against a
# same-run bf16 matmul), eager and with model.compile; 3. the memory suite (CUDA allocator peaks beside the bytes saved for backward);
# 4. a short paper-scale Sudoku training with its loss curve; 5. a torchrun case on every visible GPU (NCCL).
# Each step writes its own results.json and report.md; a failed step is logged and the next one still runs.
set -uo pipefail
out=${1:-results/gpu-check}
device=${DEVICE:-cuda}
quick=${QUICK:-0}
python=${PYTHON:-python}  # the environment with hrm-bench installed
mkdir -p "$out"
export MLFLOW_TRACKING_URI=${MLFLOW_TRACKING_URI:-sqlite:///$(realpath "$out")/mlflow.db}
paper=paper; steps=1500; processes=1
if [ "$quick" = 1 ]; then paper=smoke; steps=6; fi
if [ "$device" = cuda ] && command -v nvidia-smi >/dev/null; then
  nvidia-smi > "$out/nvidia-smi.txt" 2>&1
  processes=$(nvidia-smi -L | wc -l)
fi
common=(--device "$device" --set "train.cache_dir=$out/cache")
step() {  # step NAME COMMAND...: run it with a time limit, log it, note its exit status
  local name=$1; shift
  echo "== $name: $*" | tee -a "$out/steps.log"
  local started=$SECONDS
  timeout "${STEP_LIMIT_S:-240}" "$@" > "$out/$name.log" 2>&1
  echo "== $name: exit $? after $((SECONDS - started)) s" | tee -a "$out/steps.log"
}
step smoke "$python" -m benchmarks.run --suite all --scale smoke "${common[@]}" --out "$out/smoke"
step throughput "$python" -m benchmarks.run --suite throughput --scale "$paper" --tasks sudoku "${common[@]}" \
  --out "$out/throughput"
step throughput-compiled "$python" -m benchmarks.run --suite throughput --scale "$paper" --tasks sudoku \
  "${common[@]}" --set model.compile=true --out "$out/throughput-compiled"
step memory "$python" -m benchmarks.run --suite memory --scale smoke "${common[@]}" --out "$out/memory"
step sudoku-paper "$python" -m benchmarks.run --suite accuracy --scale "$paper" --tasks sudoku --arms hrm --seeds 0 \
  "${common[@]}" --set "train.steps=$steps" --set "train.eval_interval=$steps" --out "$out/sudoku-paper"
if [ "$processes" -gt 1 ] || [ "$quick" = 1 ]; then
  [ "$quick" = 1 ] && processes=2
  step torchrun "$python" -m torch.distributed.run --standalone --nproc_per_node "$processes" -m benchmarks.run \
    --suite accuracy --scale smoke --tasks sudoku --arms hrm --seeds 0 "${common[@]}" --out "$out/torchrun"
fi
grep "exit" "$out/steps.log"

#!/usr/bin/env bash
# Ablations of the local recipe as small equal-budget runs (STEPS steps each, batch 4, same seed and data),
# then one evaluate run of all of them on GrabCut (first LIMIT images). Usage:
#   PYTHONPATH=src bash benchmarks/ablations.sh [STEPS] [LIMIT] [JOBS]
# JOBS trainings run at once (each on one thread; 2 suits a 2-core machine).
# Variants: full model (binary strokes, PAM, CRM, iterative training); superpixel guidance (003);
# no PAM; no CRM; no iterative training (previous masks only from perturbed ground truth).
set -euo pipefail
STEPS=${1:-120}
LIMIT=${2:-10}
JOBS=${3:-1}
OUT=runs/ablations_${STEPS}
mkdir -p "$OUT"
common=(--recipe local --steps "$STEPS" --no-progress --set num_workers=0 --set threads=1 --set checkpoint_every_steps=100000)
declare -A variants=(
  [full]=""
  [superpixel]="model.config.guidance=superpixel"
  [no_pam]="model.config.use_pam=false"
  [no_crm]="model.config.use_crm=false"
  [no_iterative]="previous.pred_vs_perturb=[0.0,1.0]"
)
for name in full superpixel no_pam no_crm no_iterative; do
  if [ -f "$OUT/$name/final.pt" ]; then continue; fi
  extra=()
  if [ -n "${variants[$name]}" ]; then extra=(--set "${variants[$name]}"); fi
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  python -m training train "${common[@]}" "${extra[@]}" --out "$OUT/$name" > "$OUT/$name.log" 2>&1 &
done
wait
for name in full superpixel no_pam no_crm no_iterative; do
  [ -f "$OUT/$name/final.pt" ] || { echo "variant $name did not finish: see $OUT/$name.log" >&2; exit 1; }
done
ckpts=()
for name in full superpixel no_pam no_crm no_iterative; do ckpts+=("$name=$OUT/$name/final.pt"); done
python benchmarks/eval_checkpoints.py ../shared/data/natural/grabcut --ckpt "${ckpts[@]}" --limit "$LIMIT" \
  --out "$OUT/grabcut_eval" | tee "$OUT/grabcut_eval.txt"

#!/usr/bin/env bash
# The GPU check from a bare machine: install kent_mm (pip install -e .),
# then tools/benchmarks/gpu_check.py within what is left of the time limit.
#
# Usage: bash tools/benchmarks/gpu_check.sh OUT_DIR [FER2013_DIR_OR_TAR_GZ] [gpu_check.py options]
#   GPU_CHECK_MINUTES  whole limit, install included (default 9)
#   PYTHON             interpreter (default python3)
# Writes OUT_DIR/gpu_check.{json,md}, the logs under OUT_DIR/work, pip_install.log,
# nvidia-smi.txt, pip_freeze.txt. If CUDA is not usable with the torch wheel
# that pip chose (gpu_check.py exits with 3 and writes torch_fix.txt: installs
# of wheels built for the driver's CUDA, best first), they are tried in turn
# and the check runs again after the first that installs.
set -uo pipefail
OUT=${1:?usage: bash tools/benchmarks/gpu_check.sh OUT_DIR [FER2013] [options]}
FER=${2:-}
LIMIT=$(( ${GPU_CHECK_MINUTES:-9} * 60 ))
PY=${PYTHON:-python3}
START=$SECONDS
cd "$(dirname "$0")/../.."
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

left() { echo $(( LIMIT - (SECONDS - START) )); }

echo "== $(date -u +%FT%TZ) pip install -e . (limit ${LIMIT} s in all)"
install() { timeout $(( $(left) - 180 )) $PY -m pip install -e . "$@" >> "$OUT/pip_install.log" 2>&1; }
if ! install && grep -q externally-managed-environment "$OUT/pip_install.log"; then
    install --break-system-packages  # a distribution's own Python
fi
tail -n 2 "$OUT/pip_install.log"
(nvidia-smi || true) > "$OUT/nvidia-smi.txt" 2>&1
$PY -m pip freeze > "$OUT/pip_freeze.txt" 2>/dev/null

check() {
    local budget
    budget=$(awk "BEGIN { print ($(left) - 60) / 60 }")
    echo "== $(date -u +%FT%TZ) gpu_check.py, budget ${budget} min"
    timeout -k 15 $(( $(left) - 15 )) $PY tools/benchmarks/gpu_check.py \
        --out-dir "$OUT" --budget-min "$budget" ${FER:+--fer2013 "$FER"} "${@:3}"
}
check "$@"
rc=$?
if [ $rc -eq 3 ] && [ -s "$OUT/torch_fix.txt" ]; then
    # The first install that works, while enough time is left to check.
    while read -r FIX && [ "$(left)" -gt 300 ]; do
        echo "== CUDA not usable; trying: ${FIX/#python/$PY}"
        if timeout $(( $(left) - 200 )) ${FIX/#python/$PY} --retries 1 \
                --timeout 30 >> "$OUT/torch_fix.log" 2>&1 < /dev/null; then
            check "$@" < /dev/null
            rc=$?
            break
        fi
        tail -n 2 "$OUT/torch_fix.log"
    done < "$OUT/torch_fix.txt"
fi
echo "== $(date -u +%FT%TZ) exit $rc after $(( SECONDS - START )) s"
exit $rc

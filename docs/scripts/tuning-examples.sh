#!/usr/bin/env bash
# Re-run every example of docs/tuning.md into out/tuning-docs/ (about 5-10 minutes on 2 cores), so the
# numbers and charts in that page can be refreshed after the model or the default scenario changes:
#   bash docs/scripts/tuning-examples.sh && ls out/tuning-docs
# Then copy the printed tables into docs/tuning.md. The pictures in docs/img are made by
# docs/scripts/doc_images.py (which records the model they come from), not copied from here.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=out/tuning-docs
mkdir -p "$OUT"
N=(.venv/bin/python -m negotiation)
V=experiments/variants
run() { local name=$1; shift; echo "== $name: negotiation $*"; "${N[@]}" "$@" > "$OUT/$name.txt"; }

run compare-taiwan compare "$V/no-shocks.toml" "$V/taiwan-incident.toml" --runs 2000 --out "$OUT/compare-taiwan"
run compare-market compare "$V/no-shocks.toml" "$V/market-drop.toml" --runs 2000 --issues --out "$OUT/compare-market"
run compare-default compare default "$V/no-shocks.toml" --runs 2000
run compare-equilibrium compare default "$V/equilibrium.toml" --runs 1000
run batch-baseline batch experiments/baseline.toml --out "$OUT/baseline" --no-progress
run score score "$OUT/baseline" --outcomes experiments/outcomes-example.toml
run calibrate calibrate experiments/calibrate-us-china.toml --targets experiments/targets-example.toml --out "$OUT/calibration"
run sensitivity-sobol sensitivity experiments/calibrate-us-china.toml --samples 64 --out "$OUT/sensitivity-sobol"
run sensitivity-morris sensitivity experiments/uncertainty_lhs.toml --method morris --samples 10 --out "$OUT/sensitivity-morris"
run batch-us-china batch experiments/calibrate-us-china.toml --runs 100 --out "$OUT/us-china" --no-progress
run discover-us-china discover "$OUT/us-china" --table us-china --outcome no-deal
run compare-fix compare default docs/examples/fix-china-outside-option.toml --runs 1000
echo "outputs in $OUT"

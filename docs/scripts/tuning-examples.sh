#!/usr/bin/env bash
# Re-run every example of docs/tuning.md into out/tuning-docs/ (about 5-10 minutes on 2 cores), so the
# numbers and charts in that page can be refreshed after the model or the default scenario changes:
#   bash docs/scripts/tuning-examples.sh && ls out/tuning-docs
# Then copy the printed tables into docs/tuning.md and, if wanted, the three charts to docs/img/:
#   out/tuning-docs/compare-taiwan/compare.png          -> docs/img/tuning-compare-taiwan.png
#   out/tuning-docs/calibration/targets.png             -> docs/img/tuning-calibration-targets.png
#   out/tuning-docs/us-china/discovery/discover-us-china-no-deal-tradeoff.png
#                                                       -> docs/img/tuning-discover-us-china.png
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
run batch-baseline batch experiments/baseline.toml --out "$OUT/baseline" --no-progress
run score score "$OUT/baseline" --outcomes experiments/outcomes-example.toml
run calibrate calibrate experiments/calibrate-us-china.toml --targets experiments/targets-example.toml --out "$OUT/calibration"
run sensitivity-sobol sensitivity experiments/calibrate-us-china.toml --samples 64 --out "$OUT/sensitivity-sobol"
run sensitivity-morris sensitivity experiments/uncertainty_lhs.toml --method morris --samples 10 --out "$OUT/sensitivity-morris"
run batch-us-china batch experiments/calibrate-us-china.toml --runs 100 --out "$OUT/us-china" --no-progress
run discover-us-china discover "$OUT/us-china" --table us-china --outcome no-deal
echo "outputs in $OUT"

#!/usr/bin/env bash
# Runs the demo cleanup now: a one-off Job from the hourly CronJob demo-session-cleanup
# (`demo-session cleanup`), waits for it and prints what it removed. Safe at any time,
# also while the CronJob or the replicas' sweepers run (each session is cleaned once).
#
#   scripts/k8s-cleanup.sh
#   scripts/k8s-cleanup.sh --api     # through the admin API instead: POST /api/demo/cleanup/run
# shellcheck source=scripts/k8s-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/k8s-lib.sh"

if [ "${1:-}" = "--api" ]; then
  # shellcheck source=scripts/k8s-admin-api.sh
  . "$ROOT/scripts/k8s-admin-api.sh"
  admin_api POST /api/demo/cleanup/run
else
  run_job_from_cronjob demo-session-cleanup cleanup-manual
fi

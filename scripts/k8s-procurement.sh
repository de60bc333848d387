#!/usr/bin/env bash
# Runs the procurement now: a one-off Job from the CronJob inventory-procurement
# (`inventory-service procurement-run`): drafts purchase orders for the ingredients under
# their reorder point, for customer tenants only (demo and template tenants are skipped).
#
#   scripts/k8s-procurement.sh
# shellcheck source=scripts/k8s-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/k8s-lib.sh"

run_job_from_cronjob inventory-procurement procurement-manual

#!/usr/bin/env python3
"""Writes the rules of the PrometheusRule objects found in YAML files as one plain
Prometheus rules file ({groups: [...]}), for promtool and for a Prometheus without the
Operator. The PrometheusRule of k8s/components/monitoring/prometheusrule.yaml (or the
rendered overlay that includes it) stays the one source of the rules.

Usage: monitoring-rules.py OUT.yml FILE.yaml...   (scripts/check-deploy.sh, scripts/dev.sh)
"""

import sys

import yaml


def main():
    out, *paths = sys.argv[1:]
    groups = []
    for path in paths:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get('apiVersion') == 'monitoring.coreos.com/v1' and doc.get('kind') == 'PrometheusRule':
                    groups += doc['spec']['groups']
    if not groups:
        print(f"monitoring-rules: no PrometheusRule in {' '.join(paths)}", file=sys.stderr)
        return 1
    with open(out, 'w') as f:
        f.write('# Generated from the PrometheusRule of k8s/components/monitoring (scripts/monitoring-rules.py):\n'
                '# edit that file, not this one.\n')
        yaml.safe_dump({'groups': groups}, f, sort_keys=False, width=1000)
    return 0


if __name__ == '__main__':
    sys.exit(main())

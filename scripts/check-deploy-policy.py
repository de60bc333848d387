#!/usr/bin/env python3
"""Bakery-IA's own rules for the rendered manifests (scripts/check-deploy.sh).

The schema validation says the objects are well-formed and checkov says they are
hardened; this says they are *ours*: every reference resolves (ConfigMaps, Secrets and
their keys, Services to pods, NetworkPolicies to pods, the Jobs the seed Jobs wait for),
the contracts of docs/deploy.md hold (probes, commands, downward API, RBAC, CronJobs,
Ingress), and production carries no dev value.

Usage: check-deploy-policy.py dev.yaml prod.yaml clone-job.yaml
"""

import base64
import sys

import yaml

SERVICES = {'gateway': 8080, 'demo-session': 8001, 'tenant-service': 8002, 'inventory-service': 8003}
MIGRATIONS = {'migrate-tenant': ['tenant-service', 'migrate'],
              'migrate-inventory': ['inventory-service', 'migrate'],
              'migrate-demo-session': ['demo-session', 'migrate']}
SEEDS = {'seed-demo-tenants': ['seed-demo-tenants'], 'seed-demo-users': ['seed-demo-users'],
         'seed-demo-inventory': ['seed-demo-inventory']}

# docs/configuration.md: a shorter key stops the process at start-up
KEY_MIN_LENGTHS = {'INTERNAL_TOKEN_SECRET': 32, 'ACCESS_TOKEN_SECRET': 32, 'SESSION_TOKEN_SECRET': 32,
                   'ADMIN_API_KEY': 24, 'IP_HASH_KEY': 16}

errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond


def load(path):
    return [d for d in yaml.safe_load_all(open(path)) if d]


def pod_spec(obj):
    kind = obj['kind']
    if kind in ('Deployment', 'StatefulSet', 'Job'):
        return obj['spec']['template']
    if kind == 'CronJob':
        return obj['spec']['jobTemplate']['spec']['template']
    return None


def containers(spec):
    return spec.get('initContainers', []) + spec['containers']


def index(objs):
    return {(o['kind'], o['metadata']['name']): o for o in objs}


def check_pods(label, objs, by):
    for o in objs:
        tmpl = pod_spec(o)
        if tmpl is None:
            continue
        name = f"{label}: {o['kind']}/{o['metadata']['name']}"
        spec = tmpl['spec']
        psc = spec.get('securityContext', {})
        check(psc.get('runAsNonRoot') is True, f'{name}: pod runAsNonRoot')
        check(psc.get('seccompProfile', {}).get('type') == 'RuntimeDefault', f'{name}: seccomp RuntimeDefault')
        check('serviceAccountName' in spec, f'{name}: explicit serviceAccountName')
        for c in containers(spec):
            cn = f"{name} container {c['name']}"
            sc = c.get('securityContext', {})
            check(sc.get('readOnlyRootFilesystem') is True, f'{cn}: readOnlyRootFilesystem')
            check(sc.get('allowPrivilegeEscalation') is False, f'{cn}: allowPrivilegeEscalation false')
            check(sc.get('capabilities', {}).get('drop') == ['ALL'], f'{cn}: drop ALL capabilities')
            res = c.get('resources', {})
            check({'cpu', 'memory'} <= set(res.get('requests', {})) and
                  {'cpu', 'memory'} <= set(res.get('limits', {})), f'{cn}: requests and limits')
            # every reference resolves
            for ef in c.get('envFrom', []):
                for kind, key in (('ConfigMap', 'configMapRef'), ('Secret', 'secretRef')):
                    if key in ef:
                        check((kind, ef[key]['name']) in by, f"{cn}: envFrom {kind} {ef[key]['name']} missing")
            for e in c.get('env', []):
                vf = e.get('valueFrom', {})
                for kind, key in (('ConfigMap', 'configMapKeyRef'), ('Secret', 'secretKeyRef')):
                    if key in vf:
                        ref = vf[key]
                        target = by.get((kind, ref['name']))
                        if check(target is not None, f"{cn}: {kind} {ref['name']} missing"):
                            data = {**target.get('data', {}), **target.get('stringData', {})}
                            check(ref['key'] in data, f"{cn}: {kind} {ref['name']} has no key {ref['key']}")
            if c['name'] == 'wait-for-jobs':
                for arg in c['args']:
                    if arg.startswith('job/'):
                        check(('Job', arg[4:]) in by, f'{cn}: waits for unknown {arg}')
        for v in spec.get('volumes', []):
            if 'configMap' in v:
                check(('ConfigMap', v['configMap']['name']) in by, f"{name}: volume ConfigMap {v['configMap']['name']} missing")


def check_common(label, objs, extra_pods=()):
    """extra_pods: pods made at run time (the clone Jobs), which policies may select."""
    by = index(objs)
    for o in objs:
        if o['kind'] != 'Namespace':
            check(o['metadata'].get('namespace') == 'bakery-ia', f"{label}: {o['kind']}/{o['metadata']['name']} not in bakery-ia")
        check(o['metadata'].get('labels', {}).get('app.kubernetes.io/part-of') == 'bakery-ia',
              f"{label}: {o['kind']}/{o['metadata']['name']} lacks app.kubernetes.io/part-of")
        check(o['kind'] not in ('ClusterRole', 'ClusterRoleBinding'), f"{label}: cluster-wide RBAC {o['metadata']['name']}")
    check_pods(label, objs, by)
    pods = [(o, pod_spec(o)) for o in list(objs) + list(extra_pods) if pod_spec(o) is not None]

    cfg = by.get(('ConfigMap', 'bakery-ia-config'), {}).get('data', {})
    check(cfg.get('HOST') == '0.0.0.0', f'{label}: HOST=0.0.0.0 in bakery-ia-config')
    for svc, port in SERVICES.items():
        d = by.get(('Deployment', svc))
        if not check(d is not None, f'{label}: Deployment {svc} missing'):
            continue
        c = d['spec']['template']['spec']['containers'][0]
        check(c['command'][0] == svc, f'{label}: {svc} runs {c["command"]}')
        check(c.get('livenessProbe', {}).get('httpGet', {}).get('path') == '/health', f'{label}: {svc} liveness /health')
        check(c.get('readinessProbe', {}).get('httpGet', {}).get('path') == '/ready', f'{label}: {svc} readiness /ready')
        env = {e['name']: e for e in c.get('env', [])}
        check(env.get('PORT', {}).get('value') == str(port), f'{label}: {svc} PORT {port}')
        check(any(p['containerPort'] == port for p in c.get('ports', [])), f'{label}: {svc} containerPort {port}')
        s = by.get(('Service', svc))
        if check(s is not None, f'{label}: Service {svc} missing'):
            check(s['spec']['ports'][0]['port'] == port, f'{label}: Service {svc} port {port}')
            np_ = by.get(('NetworkPolicy', svc))
            if check(np_ is not None, f'{label}: NetworkPolicy {svc} missing'):
                check(all(p['port'] == port for r in np_['spec']['ingress'] for p in r.get('ports', [])),
                      f'{label}: NetworkPolicy {svc} port {port}')
    # demo-session: downward API and its own service account
    ds = by.get(('Deployment', 'demo-session'))
    if ds:
        spec = ds['spec']['template']['spec']
        env = {e['name']: e for e in spec['containers'][0].get('env', [])}
        check(env.get('POD_NAME', {}).get('valueFrom', {}).get('fieldRef', {}).get('fieldPath') == 'metadata.name',
              f'{label}: demo-session POD_NAME from the downward API')
        check(env.get('POD_NAMESPACE', {}).get('valueFrom', {}).get('fieldRef', {}).get('fieldPath') == 'metadata.namespace',
              f'{label}: demo-session POD_NAMESPACE from the downward API')
        check('CLONE_JOB_IMAGE' not in env and 'CLONE_JOB_IMAGE' not in cfg,
              f'{label}: CLONE_JOB_IMAGE must stay unset (the image comes from the pod)')
        check(spec['serviceAccountName'] == 'demo-session', f'{label}: demo-session service account')
    role = by.get(('Role', 'demo-session'))
    if check(role is not None, f'{label}: Role demo-session missing'):
        rules = {(g, r): set(rule['verbs']) for rule in role['rules'] for g in rule['apiGroups'] for r in rule['resources']}
        check(rules.get(('batch', 'jobs'), set()) >= {'create', 'get', 'list', 'watch', 'delete'}, f'{label}: demo-session jobs verbs')
        check('get' in rules.get(('', 'pods'), set()), f'{label}: demo-session may get pods')
        check(all('*' not in v for v in rules.values()), f'{label}: no wildcard verbs')
    # Jobs and CronJobs
    for name, cmd in {**MIGRATIONS, **SEEDS}.items():
        j = by.get(('Job', name))
        if check(j is not None, f'{label}: Job {name} missing'):
            check(j['spec']['template']['spec']['containers'][0]['command'] == cmd, f'{label}: Job {name} runs {cmd}')
    for name in SEEDS:
        j = by.get(('Job', name))
        if j:
            init = j['spec']['template']['spec'].get('initContainers', [])
            check(any(c['name'] == 'wait-for-jobs' for c in init), f'{label}: {name} waits for the Jobs before it')
    for name, cmd in (('demo-session-cleanup', ['demo-session', 'cleanup']),
                      ('inventory-procurement', ['inventory-service', 'procurement-run'])):
        cj = by.get(('CronJob', name))
        if check(cj is not None, f'{label}: CronJob {name} missing'):
            check(cj['spec']['concurrencyPolicy'] == 'Forbid', f'{label}: {name} concurrencyPolicy Forbid')
            minute, *rest = cj['spec']['schedule'].split()
            check(minute.isdigit() and rest == ['*'] * 4, f'{label}: {name} runs hourly')
            check(pod_spec(cj)['spec']['containers'][0]['command'] == cmd, f'{label}: {name} runs {cmd}')
    # Services and NetworkPolicies select pods that exist
    def selects(match):
        return any(match.items() <= (t.get('metadata', {}).get('labels', {})).items() for _, t in pods)
    for o in objs:
        if o['kind'] == 'Service':
            check(selects(o['spec']['selector']), f"{label}: Service {o['metadata']['name']} selects no pod")
        if o['kind'] == 'NetworkPolicy':
            ml = o['spec']['podSelector'].get('matchLabels')
            if ml:
                check(selects(ml), f"{label}: NetworkPolicy {o['metadata']['name']} selects no pod")
            for rule in o['spec'].get('ingress', []):
                for src in rule.get('from', []):
                    sml = src.get('podSelector', {}).get('matchLabels')
                    if sml:
                        check(selects(sml), f"{label}: NetworkPolicy {o['metadata']['name']} allows from no pod")
    check(('NetworkPolicy', 'default-deny-ingress') in by, f'{label}: default-deny-ingress missing')
    ing = by.get(('Ingress', 'bakery-ia'))
    if check(ing is not None, f'{label}: Ingress missing'):
        paths = {p['path']: p['backend']['service']['name'] for r in ing['spec']['rules'] for p in r['http']['paths']}
        check(paths.get('/') == 'gateway' and paths.get('/api') == 'gateway', f'{label}: Ingress / and /api -> gateway')
    return by


def main():
    dev_path, prod_path, clone_path = sys.argv[1:4]
    clone = load(clone_path)
    dev = check_common('dev', load(dev_path), clone)
    check(('StatefulSet', 'postgres') in dev and ('Deployment', 'redis') in dev, 'dev: in-cluster PostgreSQL and Redis')
    init = dev.get(('ConfigMap', 'postgres-init'), {}).get('data', {}).get('10-bakery.sh', '')
    check('NOSUPERUSER' in init and 'NOBYPASSRLS' in init, 'dev: the services role is no superuser and no BYPASSRLS')
    for db in ('tenant', 'inventory', 'demo_session'):
        check(f'CREATE DATABASE {db} ' in init, f'dev: database {db} created')

    # the dev keys must pass the services' own start-up validation (minimum lengths)
    keys = dev.get(('Secret', 'bakery-ia-keys'), {})
    values = {k: base64.b64decode(v).decode() for k, v in keys.get('data', {}).items()}
    values.update(keys.get('stringData', {}))
    for var, minimum in KEY_MIN_LENGTHS.items():
        check(len(values.get(var, '')) >= minimum, f'dev: {var} shorter than {minimum} characters')

    prod_text = open(prod_path).read()
    prod = check_common('prod', load(prod_path), clone)
    check('dev-only' not in prod_text, 'prod: carries a dev-only value')
    check(('StatefulSet', 'postgres') not in prod and ('Deployment', 'redis') not in prod, 'prod: no in-cluster data stores')
    for name in ('bakery-ia-database', 'bakery-ia-keys'):
        check(('Secret', name) in prod, f'prod: Secret {name} generated')

    if check(len(clone) == 1 and clone[0]['kind'] == 'Job', 'reference: one clone Job'):
        j = clone[0]
        labels = j['metadata']['labels']
        check(labels.get('app.kubernetes.io/part-of') == 'bakery-ia' and 'bakery-ia/demo-session-id' in labels,
              'reference: clone Job labels')
        for f in ('backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished'):
            check(f in j['spec'], f'reference: clone Job {f}')
        c = j['spec']['template']['spec']['containers'][0]
        check(c['command'] == ['clone-demo-tenant'] and c['args'][0] == '--session-id', 'reference: clone-demo-tenant --session-id')
        pod_labels = j['spec']['template']['metadata']['labels']
        allowed = [src['podSelector']['matchLabels'] for r in dev[('NetworkPolicy', 'postgres')]['spec']['ingress']
                   for src in r['from']]
        check(any(a.items() <= pod_labels.items() for a in allowed), 'reference: the dev PostgreSQL admits the clone pod')
        cfg = dev[('ConfigMap', 'bakery-ia-config')]['data']
        check(j['spec']['template']['spec']['serviceAccountName'] == cfg['CLONE_JOB_SERVICE_ACCOUNT'],
              'reference: service account is CLONE_JOB_SERVICE_ACCOUNT')
        sources = [(k, v['name']) for src in c['envFrom'] for k, v in src.items() if k in ('configMapRef', 'secretRef')]
        check(sources == [('configMapRef', cfg['CLONE_JOB_CONFIG_MAP']), ('secretRef', cfg['CLONE_JOB_SECRET'])],
              'reference: envFrom is CLONE_JOB_CONFIG_MAP, then CLONE_JOB_SECRET')
        check(str(j['spec']['activeDeadlineSeconds']) == cfg['CLONE_JOB_TIMEOUT_SECONDS'],
              'reference: deadline is CLONE_JOB_TIMEOUT_SECONDS')
        check_pods('reference', clone, {**dev, **index(clone)})

    if errors:
        for e in errors:
            print(f'  policy: {e}', file=sys.stderr)
        print(f'manifest policy FAILED: {len(errors)} problem(s)', file=sys.stderr)
        return 1
    print('manifest policy OK: references resolve, contracts hold, prod has no dev values')
    return 0


if __name__ == '__main__':
    sys.exit(main())

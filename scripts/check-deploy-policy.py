#!/usr/bin/env python3
"""Bakery-IA's own rules for the rendered manifests (scripts/check-deploy.sh).

The schema validation says the objects are well-formed and checkov says they are
hardened; this says they are *ours*: every reference resolves (ConfigMaps, Secrets and
their keys, Services to pods, NetworkPolicies to pods, the Jobs the seed Jobs wait for),
the contracts of docs/deploy.md hold (probes, commands, RBAC, CronJobs, Ingress, the
clone namespace, release-named Jobs, network rules, HPAs), and production carries no dev
value and runs images pinned by digest.

With the monitoring component (k8s/components/monitoring; prod enables it) it also checks
the monitoring.coreos.com objects, which the Kubernetes schemas do not know, against the
fields of the Prometheus Operator's CRDs we use, and that they fit the rest: each
ServiceMonitor selects its Service by a port that exists, the monitoring namespace may
reach that port, every alert carries severity, summary, description and a runbook_url to a
section of docs/observability.md and has a firing and a non-firing promtool test, and the
Grafana dashboard is valid JSON in a ConfigMap the sidecar picks up.

Usage: check-deploy-policy.py dev.yaml prod.yaml clone-job.yaml [dev-monitoring.yaml]
"""

import base64
import json
import os
import re
import sys

import yaml

SERVICES = {'gateway': 8080, 'demo-session': 8001, 'tenant-service': 8002, 'inventory-service': 8003}
MIGRATIONS = {'migrate-tenant': ['tenant-service', 'migrate'],
              'migrate-inventory': ['inventory-service', 'migrate'],
              'migrate-demo-session': ['demo-session', 'migrate']}
SEEDS = {'seed-demo-tenants': ['seed-demo-tenants'], 'seed-demo-users': ['seed-demo-users'],
         'seed-demo-inventory': ['seed-demo-inventory']}

# which Jobs each seed Job waits for (its init container's label selector), same release
SEED_WAITS = {'seed-demo-tenants': {'migrate-tenant', 'migrate-inventory', 'migrate-demo-session'},
              'seed-demo-users': {'migrate-tenant', 'seed-demo-tenants'},
              'seed-demo-inventory': {'migrate-inventory', 'seed-demo-tenants'}}
APP_NS, CLONE_NS = 'bakery-ia', 'bakery-ia-clones'
CLUSTER_SCOPED = {'Namespace', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'}
# what lives in the clone namespace (k8s/base/clones, the overlays' clone Secret)
IN_CLONE_NS = {('ServiceAccount', 'clone-demo-tenant'), ('Role', 'demo-session'), ('RoleBinding', 'demo-session'),
               ('ConfigMap', 'bakery-ia-clone-config'), ('ConfigMap', 'clone-job-policy'),
               ('Secret', 'bakery-ia-clone-job'), ('ResourceQuota', 'clone-jobs'), ('LimitRange', 'clone-jobs'),
               ('NetworkPolicy', 'clones-default-deny'), ('NetworkPolicy', 'clones-allow-dns'),
               ('NetworkPolicy', 'clones-allow-postgres')}
CLONE_SECRET_KEYS = {'TENANT_DATABASE_URL', 'INVENTORY_DATABASE_URL', 'DEMO_SESSION_DATABASE_URL'}
CLONE_CONFIG_KEYS = {'APP_ENV', 'LOG_FORMAT', 'LOG_LEVEL', 'DATABASE_POOL_SIZE', 'DATABASE_STATEMENT_TIMEOUT_MS',
                     'DATABASE_LOCK_TIMEOUT_MS', 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'DATABASE_POOL_WAIT_MS',
                     'CLONE_STATEMENT_TIMEOUT_MS'}
RELEASE_RE = re.compile(r'^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$')
DIGEST_RE = re.compile(r'@sha256:[0-9a-f]{64}$')
DNS = {'namespaceSelector': {'matchLabels': {'kubernetes.io/metadata.name': 'kube-system'}},
       'podSelector': {'matchLabels': {'k8s-app': 'kube-dns'}}}

# docs/configuration.md: a shorter key stops the process at start-up
KEY_MIN_LENGTHS = {'INTERNAL_TOKEN_SECRET': 32, 'ACCESS_TOKEN_SECRET': 32, 'SESSION_TOKEN_SECRET': 32,
                   'ADMIN_API_KEY': 24, 'IP_HASH_KEY': 16}

# the monitoring component: the scrape port of each service (gateway: its own listener)
METRICS_PORTS = {'gateway': ('metrics', 9180), 'demo-session': ('http', 8001), 'tenant-service': ('http', 8002),
                 'inventory-service': ('http', 8003)}
MONITORING_API = 'monitoring.coreos.com/v1'
# the fields of the CRDs (prometheus-operator v0.7x+) our objects may use; anything else is a
# typo the API server would reject (structural schemas prune or refuse unknown fields)
SM_SPEC_FIELDS = {'selector', 'namespaceSelector', 'endpoints', 'jobLabel', 'targetLabels', 'podTargetLabels',
                  'sampleLimit', 'scrapeProtocols', 'attachMetadata'}
SM_ENDPOINT_FIELDS = {'port', 'targetPort', 'path', 'scheme', 'interval', 'scrapeTimeout', 'honorLabels',
                      'relabelings', 'metricRelabelings', 'params', 'followRedirects'}
RULE_GROUP_FIELDS = {'name', 'interval', 'rules', 'limit', 'partial_response_strategy', 'query_offset'}
RULE_FIELDS = {'record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'}
DURATION_RE = re.compile(r'^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$')
METRIC_NAME_RE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MONITORING_DIR = os.path.join(ROOT, 'k8s', 'components', 'monitoring')
OBSERVABILITY_DOC = os.path.join(ROOT, 'docs', 'observability.md')

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
        ns = o['metadata'].get('namespace')

        def same_ns(target):
            return target is not None and target['metadata'].get('namespace') == ns
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
                        check(same_ns(by.get((kind, ef[key]['name']))), f"{cn}: envFrom {kind} {ef[key]['name']} missing in {ns}")
            for e in c.get('env', []):
                vf = e.get('valueFrom', {})
                for kind, key in (('ConfigMap', 'configMapKeyRef'), ('Secret', 'secretKeyRef')):
                    if key in vf:
                        ref = vf[key]
                        target = by.get((kind, ref['name']))
                        if check(same_ns(target), f"{cn}: {kind} {ref['name']} missing in {ns}"):
                            data = {**target.get('data', {}), **target.get('stringData', {})}
                            check(ref['key'] in data, f"{cn}: {kind} {ref['name']} has no key {ref['key']}")
            if c['name'] == 'wait-for-jobs':
                check(not any(a.startswith('job/') for a in c['args']), f'{cn}: waits by Job name, not by release selector')
        for v in spec.get('volumes', []):
            if 'configMap' in v and not v['configMap'].get('optional'):
                check(same_ns(by.get(('ConfigMap', v['configMap']['name']))),
                      f"{name}: volume ConfigMap {v['configMap']['name']} missing in {ns}")


def parse_selector(text):
    """kubectl's label selector syntax, as the wait-for-jobs init containers use it:
    'a in (x,y),b=c' -> {'a': {'x', 'y'}, 'b': {'c'}}."""
    out = {}
    for part in re.findall(r'[^,(]+(?:\([^)]*\))?', text):
        part = part.strip()
        m = re.fullmatch(r'(\S+)\s+in\s+\(([^)]*)\)', part)
        if m:
            out[m.group(1)] = {v.strip() for v in m.group(2).split(',')}
        elif '=' in part:
            k, v = part.split('=', 1)
            out[k.strip()] = {v.strip()}
    return out


def check_common(label, objs, extra_pods=()):
    """extra_pods: pods made at run time (the clone Jobs), which policies may select."""
    by = index(objs)
    seen = set()
    for o in objs:
        key = (o['kind'], o['metadata']['name'])
        check(key not in seen, f'{label}: {key} twice (names are unique across both namespaces)')
        seen.add(key)
        ns = o['metadata'].get('namespace')
        if o['kind'] in CLUSTER_SCOPED:
            check(ns is None, f"{label}: {o['kind']}/{o['metadata']['name']} is cluster-scoped but has a namespace")
        else:
            want = CLONE_NS if key in IN_CLONE_NS else APP_NS
            check(ns == want, f"{label}: {o['kind']}/{o['metadata']['name']} in {ns}, not {want}")
        check(o['metadata'].get('labels', {}).get('app.kubernetes.io/part-of') == 'bakery-ia',
              f"{label}: {o['kind']}/{o['metadata']['name']} lacks app.kubernetes.io/part-of")
        check(o['kind'] not in ('ClusterRole', 'ClusterRoleBinding'), f"{label}: cluster-wide RBAC {o['metadata']['name']}")
    check_pods(label, objs, by)
    pods = [(o, pod_spec(o)) for o in list(objs) + list(extra_pods) if pod_spec(o) is not None]

    # both namespaces: Pod Security restricted, pinned to a version
    for nsname in (APP_NS, CLONE_NS):
        nso = by.get(('Namespace', nsname))
        if check(nso is not None, f'{label}: Namespace {nsname} missing'):
            nl = nso['metadata'].get('labels', {})
            check(nl.get('pod-security.kubernetes.io/enforce') == 'restricted', f'{label}: {nsname} enforces restricted')
            check(re.fullmatch(r'v1\.\d+', nl.get('pod-security.kubernetes.io/enforce-version', '')) is not None,
                  f'{label}: {nsname} pins pod-security enforce-version (not latest)')

    cfg = by.get(('ConfigMap', 'bakery-ia-config'), {}).get('data', {})
    check(cfg.get('HOST') == '0.0.0.0', f'{label}: HOST=0.0.0.0 in bakery-ia-config')
    check(cfg.get('CLONE_ON_DEMAND') in ('job', 'inline'), f'{label}: CLONE_ON_DEMAND is job or inline')
    check(cfg.get('CLONE_STRATEGY') in ('k8s-job', 'inline'), f'{label}: CLONE_STRATEGY is k8s-job or inline')
    for var, want in (('CLONE_JOB_NAMESPACE', CLONE_NS), ('CLONE_JOB_SECRET', 'bakery-ia-clone-job'),
                      ('CLONE_JOB_CONFIG_MAP', 'bakery-ia-clone-config'), ('CLONE_JOB_SERVICE_ACCOUNT', 'clone-demo-tenant')):
        check(cfg.get(var) == want, f'{label}: {var}={want} in bakery-ia-config')
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
        # upgrades: old pods serve until the new ones are ready (their schema is migrated)
        ru = d['spec'].get('strategy', {}).get('rollingUpdate', {})
        check(d['spec'].get('strategy', {}).get('type') == 'RollingUpdate' and ru.get('maxUnavailable') == 0,
              f'{label}: {svc} rolls with maxUnavailable 0')
        # the optional CA bundle (TLS to managed databases)
        vols = {v['name']: v for v in d['spec']['template']['spec'].get('volumes', [])}
        mounts = {m['name']: m for m in c.get('volumeMounts', [])}
        check(vols.get('ca', {}).get('configMap', {}).get('name') == 'bakery-ia-ca'
              and vols['ca']['configMap'].get('optional') is True
              and mounts.get('ca', {}).get('mountPath') == '/etc/bakery-ia/ca' and mounts['ca'].get('readOnly') is True,
              f'{label}: {svc} mounts the optional ConfigMap bakery-ia-ca read-only at /etc/bakery-ia/ca')
        s = by.get(('Service', svc))
        if check(s is not None, f'{label}: Service {svc} missing'):
            check(s['spec']['ports'][0]['port'] == port, f'{label}: Service {svc} port {port}')
            np_ = by.get(('NetworkPolicy', svc))
            if check(np_ is not None, f'{label}: NetworkPolicy {svc} missing'):
                check(all(p['port'] == port for r in np_['spec']['ingress'] for p in r.get('ports', [])),
                      f'{label}: NetworkPolicy {svc} port {port}')
    # demo-session: CLONE_JOB_IMAGE is its own image; it never reads its pod
    ds = by.get(('Deployment', 'demo-session'))
    policy_params = by.get(('ConfigMap', 'clone-job-policy'), {}).get('data', {})
    if ds:
        spec = ds['spec']['template']['spec']
        c = spec['containers'][0]
        env = {e['name']: e for e in c.get('env', [])}
        check('POD_NAME' not in env, f'{label}: demo-session has no POD_NAME (it never reads its pod)')
        check(env.get('CLONE_JOB_IMAGE', {}).get('value') == c['image'],
              f"{label}: demo-session CLONE_JOB_IMAGE is its own image ({env.get('CLONE_JOB_IMAGE', {}).get('value')})")
        check('CLONE_JOB_IMAGE' not in cfg, f'{label}: CLONE_JOB_IMAGE only on demo-session, not in bakery-ia-config')
        check(policy_params.get('image') == c['image'], f'{label}: clone-job-policy image is demo-session\'s image')
        check(spec['serviceAccountName'] == 'demo-session', f'{label}: demo-session service account')
    check(policy_params.get('serviceAccount') == cfg.get('CLONE_JOB_SERVICE_ACCOUNT'),
          f'{label}: clone-job-policy serviceAccount is CLONE_JOB_SERVICE_ACCOUNT')
    # demo-session's rights: Jobs in the clone namespace, exactly the verbs it uses
    role = by.get(('Role', 'demo-session'))
    if check(role is not None, f'{label}: Role demo-session missing'):
        rules = {(g, r): set(rule['verbs']) for rule in role['rules'] for g in rule['apiGroups'] for r in rule['resources']}
        check(rules == {('batch', 'jobs'): {'create', 'list', 'watch', 'delete'}},
              f'{label}: Role demo-session grants batch/jobs create, list, watch, delete and nothing else ({rules})')
    rb = by.get(('RoleBinding', 'demo-session'))
    if check(rb is not None, f'{label}: RoleBinding demo-session missing'):
        check(rb['roleRef']['name'] == 'demo-session' and rb['subjects'] ==
              [{'kind': 'ServiceAccount', 'name': 'demo-session', 'namespace': APP_NS}],
              f'{label}: RoleBinding demo-session binds ServiceAccount demo-session of {APP_NS}')
    for o in objs:
        if o['kind'] == 'Role':
            for rule in o['rules']:
                check('*' not in rule['verbs'] and '*' not in rule['resources'], f"{label}: wildcard in Role {o['metadata']['name']}")
                check('pods' not in rule['resources'] or o['metadata']['name'] != 'demo-session',
                      f'{label}: demo-session may not read pods')
    # the clone namespace
    sa = by.get(('ServiceAccount', 'clone-demo-tenant'))
    check(sa is not None and sa.get('automountServiceAccountToken') is False,
          f'{label}: ServiceAccount clone-demo-tenant without token')
    sec = by.get(('Secret', 'bakery-ia-clone-job'))
    if check(sec is not None, f'{label}: Secret bakery-ia-clone-job missing'):
        keys = set(sec.get('data', {})) | set(sec.get('stringData', {}))
        check(keys == CLONE_SECRET_KEYS, f'{label}: Secret bakery-ia-clone-job holds exactly {sorted(CLONE_SECRET_KEYS)} ({sorted(keys)})')
    ccfg = by.get(('ConfigMap', 'bakery-ia-clone-config'), {}).get('data', {})
    check(set(ccfg) == CLONE_CONFIG_KEYS, f'{label}: bakery-ia-clone-config keys')
    check(all(ccfg.get(k) == cfg.get(k) for k in CLONE_CONFIG_KEYS),
          f'{label}: bakery-ia-clone-config values are bakery-ia-config\'s')
    rq = by.get(('ResourceQuota', 'clone-jobs'), {}).get('spec', {}).get('hard', {})
    check({'count/jobs.batch', 'pods', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'} <= set(rq),
          f'{label}: ResourceQuota clone-jobs bounds Jobs, pods, cpu and memory')
    # release: one value, in the Job names and labels
    release = by.get(('ConfigMap', 'bakery-ia-release'), {}).get('data', {}).get('release', '')
    check(RELEASE_RE.fullmatch(release) is not None, f'{label}: release {release!r} is a DNS label of at most 40 characters')
    jobs = {o['metadata']['labels'].get('app.kubernetes.io/name'): o for o in objs if o['kind'] == 'Job'}
    for name, cmd in {**MIGRATIONS, **SEEDS}.items():
        j = jobs.get(name)
        if check(j is not None, f'{label}: Job {name} missing'):
            check(j['metadata']['name'] == f'{name}-{release}', f"{label}: Job {j['metadata']['name']} is not {name}-{release}")
            check(j['metadata']['labels'].get('bakery-ia/release') == release and
                  j['spec']['template']['metadata']['labels'].get('bakery-ia/release') == release,
                  f'{label}: Job {name} labelled bakery-ia/release={release}')
            check(j['spec'].get('ttlSecondsAfterFinished', 0) >= 86400, f'{label}: Job {name} kept at least a day')
            check(j['spec']['template']['spec']['containers'][0]['command'] == cmd, f'{label}: Job {name} runs {cmd}')
    for name, wants in SEED_WAITS.items():
        j = jobs.get(name)
        if not j:
            continue
        init = {c['name']: c for c in j['spec']['template']['spec'].get('initContainers', [])}
        w = init.get('wait-for-jobs')
        if not check(w is not None, f'{label}: {name} waits for the Jobs before it'):
            continue
        env = {e['name']: e for e in w.get('env', [])}
        check(env.get('RELEASE', {}).get('valueFrom', {}).get('configMapKeyRef') == {'name': 'bakery-ia-release', 'key': 'release'},
              f'{label}: {name} wait-for-jobs reads RELEASE from bakery-ia-release')
        sels = [a.split('=', 1)[1] for a in w['args'] if a.startswith('--selector=')]
        if check(len(sels) == 1 and 'job' in w['args'] and '--for=condition=complete' in w['args'],
                 f'{label}: {name} wait-for-jobs: kubectl wait --for=condition=complete job --selector=...'):
            sel = parse_selector(sels[0])
            check(sel.get('bakery-ia/release') == {'$(RELEASE)'}, f'{label}: {name} waits for Jobs of its release')
            check(sel.get('app.kubernetes.io/name') == wants, f"{label}: {name} waits for {sorted(wants)}, not {sel.get('app.kubernetes.io/name')}")
            check(all(n in jobs for n in sel.get('app.kubernetes.io/name', ())), f'{label}: {name} waits for unknown Jobs')
    for name, cmd in (('demo-session-cleanup', ['demo-session', 'cleanup']),
                      ('inventory-procurement', ['inventory-service', 'procurement-run'])):
        cj = by.get(('CronJob', name))
        if check(cj is not None, f'{label}: CronJob {name} missing'):
            check(cj['spec']['concurrencyPolicy'] == 'Forbid', f'{label}: {name} concurrencyPolicy Forbid')
            minute, *rest = cj['spec']['schedule'].split()
            check(minute.isdigit() and rest == ['*'] * 4, f'{label}: {name} runs hourly')
            check(pod_spec(cj)['spec']['containers'][0]['command'] == cmd, f'{label}: {name} runs {cmd}')
    # HPAs own their Deployments' replica counts
    for o in objs:
        if o['kind'] == 'HorizontalPodAutoscaler':
            ref = o['spec']['scaleTargetRef']
            d = by.get((ref['kind'], ref['name']))
            if check(d is not None, f"{label}: HPA {o['metadata']['name']} targets a missing {ref['kind']}"):
                check('replicas' not in d['spec'], f"{label}: {ref['kind']} {ref['name']} sets replicas but HPA {o['metadata']['name']} owns them")
            check('scaleDown' in o['spec'].get('behavior', {}), f"{label}: HPA {o['metadata']['name']} has a scale-down behavior")

    # Services and NetworkPolicies select pods that exist (in the right namespace)
    def selects(match, ns):
        return any(match.items() <= (t.get('metadata', {}).get('labels', {})).items()
                   and o['metadata'].get('namespace') == ns for o, t in pods)

    def peer_ns(peer, own):
        nsel = peer.get('namespaceSelector')
        if nsel is None:
            return own
        return nsel.get('matchLabels', {}).get('kubernetes.io/metadata.name')

    for o in objs:
        ns = o['metadata'].get('namespace')
        if o['kind'] == 'Service':
            check(selects(o['spec']['selector'], ns), f"{label}: Service {o['metadata']['name']} selects no pod")
        if o['kind'] == 'NetworkPolicy':
            name = o['metadata']['name']
            ml = o['spec']['podSelector'].get('matchLabels')
            if ml:
                check(selects(ml, ns), f"{label}: NetworkPolicy {name} selects no pod")
            for direction, key in (('ingress', 'from'), ('egress', 'to')):
                for rule in o['spec'].get(direction, []):
                    for peer in rule.get(key, []):
                        sml = peer.get('podSelector', {}).get('matchLabels')
                        pns = peer_ns(peer, ns)
                        if sml and pns in (APP_NS, CLONE_NS):
                            check(selects(sml, pns), f"{label}: NetworkPolicy {name} {direction} names no pod ({sml} in {pns})")
                        if direction == 'egress' and peer.get('ipBlock'):
                            check(all(p.get('port') in (443, 6443, 5432, 6379) for p in rule.get('ports', [])) and rule.get('ports'),
                                  f'{label}: NetworkPolicy {name}: ipBlock egress only to PostgreSQL, Redis or the API server ports')
    for ns in (APP_NS, CLONE_NS):
        deny = [o for o in objs if o['kind'] == 'NetworkPolicy' and o['metadata'].get('namespace') == ns
                and o['spec']['podSelector'] == {} and not o['spec'].get('ingress') and not o['spec'].get('egress')]
        types = {t for o in deny for t in o['spec']['policyTypes']}
        check(types == {'Ingress', 'Egress'}, f'{label}: {ns} denies ingress and egress by default')
        dns = [o for o in objs if o['kind'] == 'NetworkPolicy' and o['metadata'].get('namespace') == ns
               and o['spec']['podSelector'] == {} and any(DNS in r.get('to', []) for r in o['spec'].get('egress', []))]
        check(len(dns) == 1, f'{label}: {ns} allows DNS to kube-dns')
    # each pod's labels open exactly the egress it needs
    for o, t in pods:
        if o['metadata'].get('namespace') != APP_NS:
            continue
        spec, labels = t['spec'], t['metadata'].get('labels', {})
        envs = {e['name'] for c in containers(spec) for e in c.get('env', [])}
        n = f"{label}: {o['kind']}/{o['metadata']['name']}"
        if any(v.endswith('_DATABASE_URL') for v in envs) and o['metadata']['name'] != 'postgres':
            check(labels.get('bakery-ia/postgres-client') == 'true', f'{n} reads a database URL without bakery-ia/postgres-client')
        if 'REDIS_URL' in envs:
            check(labels.get('bakery-ia/redis-client') == 'true', f'{n} reads REDIS_URL without bakery-ia/redis-client')
        if spec.get('automountServiceAccountToken'):
            check(labels.get('bakery-ia/kube-api-client') == 'true', f'{n} has an API token without bakery-ia/kube-api-client')
    ing = by.get(('Ingress', 'bakery-ia'))
    if check(ing is not None, f'{label}: Ingress missing'):
        paths = {p['path']: p['backend']['service']['name'] for r in ing['spec']['rules'] for p in r['http']['paths']}
        check(paths.get('/') == 'gateway' and paths.get('/api') == 'gateway', f'{label}: Ingress / and /api -> gateway')
    return by


def seconds(duration):
    units = {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800, 'y': 31536000}
    return sum(int(n) * units[u] for n, u in re.findall(r'([0-9]+)(ms|[smhdwy])', duration))


def doc_anchors(path):
    """GitHub's anchors of a Markdown file's headings."""
    anchors = set()
    if os.path.exists(path):
        for line in open(path):
            m = re.match(r'#+\s+(.*)', line)
            if m:
                text = re.sub(r'[^\w\- ]', '', m.group(1).strip().lower())
                anchors.add(text.replace(' ', '-'))
    return anchors


def check_monitoring(label, objs, by):
    """The monitoring component's objects, when the overlay has them."""
    mon = [o for o in objs if o['apiVersion'].startswith('monitoring.coreos.com/')]
    for o in mon:
        check(o['apiVersion'] == MONITORING_API and o['kind'] in ('ServiceMonitor', 'PrometheusRule'),
              f"{label}: {o['apiVersion']} {o['kind']}/{o['metadata']['name']}: only ServiceMonitor and PrometheusRule of {MONITORING_API}")
        check(set(o) <= {'apiVersion', 'kind', 'metadata', 'spec'}, f"{label}: {o['kind']}/{o['metadata']['name']} top-level fields")
    # the gateway's separate metrics listener, reachable in the pod
    gw = by.get(('Deployment', 'gateway'))
    if gw:
        c = gw['spec']['template']['spec']['containers'][0]
        env = {e['name']: e.get('value') for e in c.get('env', [])}
        check(env.get('GATEWAY_METRICS_ADDR') == '0.0.0.0:9180', f'{label}: gateway GATEWAY_METRICS_ADDR=0.0.0.0:9180 (else it listens on 127.0.0.1)')
        check({'name': 'metrics', 'containerPort': 9180} in c.get('ports', []), f'{label}: gateway container port 9180 named metrics')
        check(c['ports'][0]['containerPort'] == 8080, f'{label}: gateway keeps 8080 as its first port')
    # ServiceMonitors: one per service, on a Service port that exists, reachable from monitoring
    sms = {o['metadata']['name']: o for o in mon if o['kind'] == 'ServiceMonitor'}
    check(set(sms) == set(METRICS_PORTS), f'{label}: ServiceMonitors for {sorted(METRICS_PORTS)} ({sorted(sms)})')
    scrape_policies = [o for o in objs if o['kind'] == 'NetworkPolicy' and o['metadata'].get('namespace') == APP_NS]
    for name, sm in sms.items():
        n = f'{label}: ServiceMonitor {name}'
        spec = sm['spec']
        if not check(set(spec) <= SM_SPEC_FIELDS, f'{n}: unknown spec fields {sorted(set(spec) - SM_SPEC_FIELDS)}'):
            continue
        check(sm['metadata'].get('namespace') == APP_NS and spec.get('namespaceSelector') == {'matchNames': [APP_NS]},
              f'{n}: in {APP_NS}, selecting Services of {APP_NS}')
        sel = spec.get('selector', {}).get('matchLabels', {})
        svcs = [o for o in objs if o['kind'] == 'Service' and o['metadata'].get('namespace') == APP_NS
                and sel and sel.items() <= o['metadata'].get('labels', {}).items()]
        if not check(len(svcs) == 1 and svcs[0]['metadata']['name'] == name, f'{n}: selects exactly Service {name} ({[s["metadata"]["name"] for s in svcs]})'):
            continue
        svc = svcs[0]
        want_port, want_number = METRICS_PORTS.get(name, (None, None))
        eps = spec.get('endpoints', [])
        check(len(eps) == 1, f'{n}: one endpoint')
        for ep in eps:
            check(set(ep) <= SM_ENDPOINT_FIELDS, f'{n}: unknown endpoint fields {sorted(set(ep) - SM_ENDPOINT_FIELDS)}')
            check(ep.get('port') == want_port and ep.get('path') == '/metrics', f'{n}: scrapes port {want_port}, path /metrics')
            for key in ('interval', 'scrapeTimeout'):
                check(DURATION_RE.fullmatch(str(ep.get(key, ''))) is not None and ep.get(key), f'{n}: {key} is a duration')
            check(seconds(str(ep.get('scrapeTimeout', '0s'))) <= seconds(str(ep.get('interval', '0s'))), f'{n}: scrapeTimeout <= interval')
            sp = [p for p in svc['spec']['ports'] if p.get('name') == ep.get('port')]
            if not check(len(sp) == 1, f'{n}: Service {name} has no port named {ep.get("port")}'):
                continue
            # the Service port's target: a container port of the selected pods
            d = by.get(('Deployment', name))
            cports = {p.get('name'): p['containerPort'] for p in d['spec']['template']['spec']['containers'][0].get('ports', [])} if d else {}
            target = sp[0].get('targetPort', sp[0]['port'])
            number = cports.get(target) if isinstance(target, str) else target
            check(number == want_number, f'{n}: Service port {ep.get("port")} reaches container port {want_number} ({number})')
            pod_labels = d['spec']['template']['metadata']['labels'] if d else {}
            open_ = False
            for np_ in scrape_policies:
                ml = np_['spec']['podSelector'].get('matchLabels')
                if not ml or not ml.items() <= pod_labels.items():
                    continue
                for rule in np_['spec'].get('ingress', []):
                    from_monitoring = any('namespaceSelector' in peer and
                                          peer['namespaceSelector'].get('matchLabels', {}).get('kubernetes.io/metadata.name') not in (APP_NS, CLONE_NS)
                                          for peer in rule.get('from', []))
                    if from_monitoring and any(p.get('port') == number for p in rule.get('ports', [])):
                        open_ = True
            check(open_, f'{n}: no NetworkPolicy lets the monitoring namespace reach {name}:{number}')
    # the rules: the PrometheusRule CRD's fields, Prometheus' names, our annotations
    rules = [o for o in mon if o['kind'] == 'PrometheusRule']
    check(len(rules) == 1, f'{label}: one PrometheusRule ({len(rules)})')
    anchors = doc_anchors(OBSERVABILITY_DOC)
    alerts = set()
    for pr in rules:
        n = f"{label}: PrometheusRule {pr['metadata']['name']}"
        check(set(pr['spec']) == {'groups'}, f'{n}: spec holds groups only')
        groups = pr['spec'].get('groups', [])
        check(len({g.get('name') for g in groups}) == len(groups), f'{n}: group names unique')
        for g in groups:
            check(set(g) <= RULE_GROUP_FIELDS and g.get('name') and g.get('rules'), f"{n}: group {g.get('name')} fields")
            check('interval' not in g or DURATION_RE.fullmatch(g['interval']) is not None, f"{n}: group {g.get('name')} interval")
            for r in g.get('rules', []):
                rn = r.get('alert') or r.get('record')
                check(set(r) <= RULE_FIELDS and ('alert' in r) != ('record' in r) and isinstance(r.get('expr'), str),
                      f'{n}: rule {rn}: fields, one of alert/record, a string expr')
                check('for' not in r or DURATION_RE.fullmatch(r['for']) is not None, f'{n}: rule {rn}: for is a duration')
                if 'record' in r:
                    check(METRIC_NAME_RE.fullmatch(r['record']) is not None and r['record'].count(':') == 2,
                          f'{n}: recording rule {rn} named level:metric:operations')
                    continue
                check(rn not in alerts, f'{n}: alert {rn} twice')
                alerts.add(rn)
                check(r.get('labels', {}).get('severity') in ('critical', 'warning', 'info'), f'{n}: alert {rn} severity')
                ann = r.get('annotations', {})
                check(ann.get('summary') and ann.get('description'), f'{n}: alert {rn} summary and description')
                url = ann.get('runbook_url', '')
                check(url.endswith(f'docs/observability.md#{rn.lower()}'), f'{n}: alert {rn} runbook_url is docs/observability.md#{rn.lower()} ({url})')
                check(rn.lower() in anchors, f'{n}: docs/observability.md has no section "{rn}" (its runbook)')
    # every alert has a promtool test that expects it firing, and one that expects nothing
    tests_path = os.path.join(MONITORING_DIR, 'tests', 'rules.test.yaml')
    firing, quiet = set(), set()
    if check(os.path.exists(tests_path), f'{label}: {tests_path} missing'):
        for t in yaml.safe_load(open(tests_path)).get('tests', []):
            for a in t.get('alert_rule_test', []):
                (firing if a.get('exp_alerts') else quiet).add(a['alertname'])
        for a in sorted(alerts):
            check(a in firing and a in quiet, f'{label}: alert {a} lacks a promtool test that expects it firing and one that does not')
        check(firing | quiet <= alerts, f'{label}: promtool tests of unknown alerts {sorted((firing | quiet) - alerts)}')
    # the Grafana dashboard, for the sidecar's default label
    cms = [o for o in objs if o['kind'] == 'ConfigMap' and o['metadata'].get('labels', {}).get('grafana_dashboard') == '1']
    if check(len(cms) == 1, f'{label}: one ConfigMap labelled grafana_dashboard: "1"'):
        data = cms[0].get('data', {})
        check(len(data) == 1 and all(k.endswith('.json') for k in data), f'{label}: the dashboard ConfigMap holds one .json file')
        for k, v in data.items():
            try:
                dash = json.loads(v)
            except ValueError as e:
                check(False, f'{label}: dashboard {k} is not JSON: {e}')
                continue
            check(dash.get('uid') and dash.get('title') and 'id' not in dash, f'{label}: dashboard {k} has uid and title, no id')
            panels = [p for p in dash.get('panels', []) if p.get('type') != 'row']
            check(len({p['id'] for p in dash.get('panels', [])}) == len(dash.get('panels', [])), f'{label}: dashboard panel ids unique')
            for p in panels:
                check(p.get('targets') and all(t.get('expr') for t in p['targets']), f"{label}: dashboard panel {p.get('title')} has queries")
    return alerts


def images(objs):
    for o in objs:
        t = pod_spec(o)
        if t is not None:
            for c in containers(t['spec']):
                yield o, c['image']


def main():
    dev_path, prod_path, clone_path = sys.argv[1:4]
    clone = load(clone_path)
    dev_objs = load(dev_path)
    dev = check_common('dev', dev_objs, clone)
    if any(o['apiVersion'].startswith('monitoring.coreos.com/') for o in dev_objs):
        check_monitoring('dev', dev_objs, dev)
    if len(sys.argv) > 4:
        # dev with the monitoring component enabled, as docs/observability.md says
        devmon_objs = load(sys.argv[4])
        check_monitoring('dev+monitoring', devmon_objs, check_common('dev+monitoring', devmon_objs, clone))
    check(('StatefulSet', 'postgres') in dev and ('Deployment', 'redis') in dev, 'dev: in-cluster PostgreSQL and Redis')
    init = dev.get(('ConfigMap', 'postgres-init'), {}).get('data', {}).get('10-bakery.sh', '')
    check('NOSUPERUSER' in init and 'NOBYPASSRLS' in init, 'dev: the services role is no superuser and no BYPASSRLS')
    for db in ('tenant', 'inventory', 'demo_session'):
        check(f'CREATE DATABASE {db} ' in init, f'dev: database {db} created')
    dcfg = dev[('ConfigMap', 'bakery-ia-config')]['data']
    check(dcfg.get('CLONE_STRATEGY') == 'k8s-job' and dcfg.get('CLONE_ON_DEMAND') == 'job',
          'dev: CLONE_STRATEGY=k8s-job, CLONE_ON_DEMAND=job (tilt up exercises the clone Jobs)')

    # the dev keys must pass the services' own start-up validation (minimum lengths)
    keys = dev.get(('Secret', 'bakery-ia-keys'), {})
    values = {k: base64.b64decode(v).decode() for k, v in keys.get('data', {}).items()}
    values.update(keys.get('stringData', {}))
    for var, minimum in KEY_MIN_LENGTHS.items():
        check(len(values.get(var, '')) >= minimum, f'dev: {var} shorter than {minimum} characters')

    prod_text = open(prod_path).read()
    prod_objs = load(prod_path)
    prod = check_common('prod', prod_objs, clone)
    check(bool(check_monitoring('prod', prod_objs, prod)), 'prod: the monitoring component is enabled (alerts)')
    check('dev-only' not in prod_text, 'prod: carries a dev-only value')
    check(('StatefulSet', 'postgres') not in prod and ('Deployment', 'redis') not in prod, 'prod: no in-cluster data stores')
    for name in ('bakery-ia-database', 'bakery-ia-keys'):
        check(('Secret', name) in prod, f'prod: Secret {name} generated')
    for o, image in images(prod_objs):
        check(DIGEST_RE.search(image) is not None, f"prod: {o['kind']}/{o['metadata']['name']} image {image} not pinned by digest")
    check('imagePattern' not in prod.get(('ConfigMap', 'clone-job-policy'), {}).get('data', {}),
          'prod: the admission policy admits demo-session\'s exact image only (no imagePattern)')
    hpas = {o['spec']['scaleTargetRef']['name'] for o in prod_objs if o['kind'] == 'HorizontalPodAutoscaler'}
    check(hpas == {'gateway', 'demo-session'}, f'prod: HPAs for gateway and demo-session ({sorted(hpas)})')
    check(prod[('ConfigMap', 'bakery-ia-config')]['data'].get('CLONE_STRATEGY') == 'inline', 'prod: CLONE_STRATEGY=inline by default')

    if check(len(clone) == 1 and clone[0]['kind'] == 'Job', 'reference: one clone Job'):
        j = clone[0]
        labels = j['metadata']['labels']
        check(re.fullmatch(r'clone-[0-9a-f]{32}', j['metadata']['name']) is not None, 'reference: name clone-<32 hex>')
        cfg = dev[('ConfigMap', 'bakery-ia-config')]['data']
        check(j['metadata'].get('namespace') == cfg['CLONE_JOB_NAMESPACE'], 'reference: in CLONE_JOB_NAMESPACE')
        check(labels.get('app.kubernetes.io/name') == 'clone-demo-tenant' and
              labels.get('app.kubernetes.io/part-of') == 'bakery-ia' and 'bakery-ia/demo-session-id' in labels,
              'reference: clone Job labels')
        check(j['spec'].get('backoffLimit') == 2 and j['spec'].get('ttlSecondsAfterFinished') == 600,
              'reference: backoffLimit 2, ttlSecondsAfterFinished 600')
        pspec = j['spec']['template']['spec']
        check(pspec.get('restartPolicy') == 'Never' and pspec.get('automountServiceAccountToken') is False
              and pspec.get('securityContext', {}).get('runAsUser') == 65532, 'reference: Never, no token, uid 65532')
        check(len(pspec['containers']) == 1, 'reference: one container')
        c = pspec['containers'][0]
        check(c['name'] == 'clone' and c['command'] == ['clone-demo-tenant'] and c['args'][0] == '--session-id',
              'reference: container clone runs clone-demo-tenant --session-id')
        check(c['resources'] == {'requests': {'cpu': '50m', 'memory': '32Mi'}, 'limits': {'cpu': '500m', 'memory': '128Mi'}},
              'reference: resources 50m/32Mi, 500m/128Mi')
        check(c.get('volumeMounts') == [{'name': 'ca', 'mountPath': '/etc/bakery-ia/ca', 'readOnly': True}] and
              pspec.get('volumes') == [{'name': 'ca', 'configMap': {'name': 'bakery-ia-ca', 'optional': True}}],
              'reference: the optional CA ConfigMap read-only at /etc/bakery-ia/ca')
        pod_labels = j['spec']['template']['metadata']['labels']
        allowed = [src for r in dev[('NetworkPolicy', 'postgres')]['spec']['ingress'] for src in r['from']]
        check(any(a.get('podSelector', {}).get('matchLabels', {}).items() <= pod_labels.items() and
                  a.get('namespaceSelector', {}).get('matchLabels', {}).get('kubernetes.io/metadata.name') == CLONE_NS
                  for a in allowed), 'reference: the dev PostgreSQL admits the clone pod from bakery-ia-clones')
        check(pspec['serviceAccountName'] == cfg['CLONE_JOB_SERVICE_ACCOUNT'],
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
    print('manifest policy OK: references resolve, contracts hold, prod has no dev values and pins digests')
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Evaluates the ValidatingAdmissionPolicy of the clone Jobs offline (scripts/check-deploy.sh).

The API server evaluates k8s/base/admission-policy.yaml with CEL; this evaluates the same
expressions with celpy (cel-python, PyPI), the way the API server applies a policy:

1. matchConstraints: the request's resource (batch/v1 jobs), operation and namespace;
2. the binding's paramRef: the ConfigMap it names must exist in the rendered manifests
   (parameterNotFoundAction: Deny), and its data becomes `params`;
3. matchConditions: all true, else the policy does not apply; an error denies
   (failurePolicy: Fail);
4. variables, then every validation: one false or in error denies.

It runs for each rendered overlay, against k8s/reference/clone-job.yaml (with its image
set to the overlay's parameter, as demo-session's CLONE_JOB_IMAGE is), which must be
admitted, and against variants of it that must be denied (other image, command, service
account, an extra Secret, a hostPath volume, ...), or to which the policy must not apply
(another user, another namespace). The expressions must stay standard CEL, so that both
evaluators agree: has(), all(), in, size(), matches(), comparisons.

Usage: check-deploy-cel.py clone-job.yaml dev.yaml [prod.yaml ...]
"""

import copy
import os
import sys

import celpy
import yaml

DEMO_SESSION = 'system:serviceaccount:bakery-ia:demo-session'

ENV = celpy.Environment()
_programs = {}


def cel(expr, activation):
    """True, False, or an error message (evaluation errors never pass)."""
    if expr not in _programs:
        _programs[expr] = ENV.program(ENV.compile(expr))
    try:
        result = _programs[expr].evaluate(activation)
    except Exception as e:  # celpy raises CELEvalError and friends
        return f'error: {e}'
    if isinstance(result, Exception):
        return f'error: {result}'
    if isinstance(result, (bool, celpy.celtypes.BoolType)):
        return bool(result)
    return f'error: not a bool: {result!r}'


def load(path):
    return [d for d in yaml.safe_load_all(open(path)) if d]


def selector_matches(sel, labels):
    if not sel:
        return True
    for k, v in sel.get('matchLabels', {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get('matchExpressions', []):
        has = e['key'] in labels
        val = labels.get(e['key'])
        op = e['operator']
        if (op == 'In' and val not in e['values']) or (op == 'NotIn' and val in e['values']) or \
           (op == 'Exists' and not has) or (op == 'DoesNotExist' and has):
            return False
    return True


def rule_matches(rules, op):
    for r in rules:
        if 'batch' in r['apiGroups'] and 'v1' in r['apiVersions'] and 'jobs' in r['resources'] \
                and (op in r['operations'] or '*' in r['operations']):
            return True
    return False


def admit(policy, binding, objects, job, username, operation='CREATE'):
    """'allowed' | 'not-applicable' | 'denied: <why>'."""
    ns = job['metadata']['namespace']
    ns_labels = {'kubernetes.io/metadata.name': ns}
    spec = policy['spec']
    mc = spec['matchConstraints']
    if not rule_matches(mc['resourceRules'], operation) or not selector_matches(mc.get('namespaceSelector'), ns_labels):
        return 'not-applicable'
    mr = binding['spec'].get('matchResources', {})
    if not selector_matches(mr.get('namespaceSelector'), ns_labels):
        return 'not-applicable'
    ref = binding['spec']['paramRef']
    params = next((o for o in objects if o['kind'] == spec['paramKind']['kind']
                   and o['metadata']['name'] == ref['name'] and o['metadata'].get('namespace') == ref['namespace']), None)
    if params is None:
        return 'denied: parameters not found' if ref.get('parameterNotFoundAction') == 'Deny' else 'allowed'
    request = {'operation': operation, 'namespace': ns, 'name': job['metadata']['name'],
               'userInfo': {'username': username},
               'resource': {'group': 'batch', 'version': 'v1', 'resource': 'jobs'}}
    act = {'object': celpy.json_to_cel(job), 'oldObject': None, 'params': celpy.json_to_cel(params),
           'request': celpy.json_to_cel(request)}
    for cond in spec.get('matchConditions', []):
        r = cel(cond['expression'], act)
        if r is False:
            return 'not-applicable'
        if r is not True:
            return f"denied: matchCondition {cond['name']}: {r}"
    variables = celpy.celtypes.MapType()
    for v in spec.get('variables', []):
        # evaluated in order, each seeing the ones before; an error surfaces where used
        if v['expression'] not in _programs:
            _programs[v['expression']] = ENV.program(ENV.compile(v['expression']))
        try:
            value = _programs[v['expression']].evaluate({**act, 'variables': variables})
        except Exception:
            value = None
        variables[celpy.celtypes.StringType(v['name'])] = value
    act['variables'] = celpy.celtypes.MapType(variables)
    for val in spec['validations']:
        r = cel(val['expression'], act)
        if r is not True:
            return f"denied: {val.get('message', val['expression'])}" + ('' if r is False else f' ({r})')
    return 'allowed'


def variants(ref, image):
    """(name, job, expected, user, operation) cases for one overlay."""
    def job(mut=None):
        j = copy.deepcopy(ref)
        j['spec']['template']['spec']['containers'][0]['image'] = image
        if mut:
            mut(j)
        return j

    def pod(j):
        return j['spec']['template']['spec']

    def c0(j):
        return pod(j)['containers'][0]

    def set_(f):
        def m(j):
            f(j)
        return m

    cases = [
        ('the reference Job', job(), 'allowed', DEMO_SESSION, 'CREATE'),
        ('the reference Job, UPDATE', job(), 'allowed', DEMO_SESSION, 'UPDATE'),
        ('a warm-pool refill (--pool-slots)', job(set_(lambda j: c0(j).update(args=['--pool-slots', '3']))),
         'allowed', DEMO_SESSION, 'CREATE'),
        ('no CA volume', job(set_(lambda j: (pod(j).pop('volumes'), c0(j).pop('volumeMounts')))),
         'allowed', DEMO_SESSION, 'CREATE'),
        ('another image', job(set_(lambda j: c0(j).update(image='registry.example.com/evil/miner:latest'))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('another command', job(set_(lambda j: c0(j).update(command=['demo-session', 'serve']))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('other arguments', job(set_(lambda j: c0(j).update(args=['--all-tenants']))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('another service account', job(set_(lambda j: pod(j).update(serviceAccountName='demo-session'))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('the API token mounted', job(set_(lambda j: pod(j).update(automountServiceAccountToken=True))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('an extra Secret in env', job(set_(lambda j: c0(j).setdefault('env', []).append(
            {'name': 'ADMIN_API_KEY', 'valueFrom': {'secretKeyRef': {'name': 'bakery-ia-keys', 'key': 'ADMIN_API_KEY'}}}))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('an extra Secret in envFrom', job(set_(lambda j: c0(j)['envFrom'].append({'secretRef': {'name': 'bakery-ia-keys'}}))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('a hostPath volume', job(set_(lambda j: pod(j)['volumes'].append({'name': 'host', 'hostPath': {'path': '/'}}))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('hostNetwork', job(set_(lambda j: pod(j).update(hostNetwork=True))), 'denied', DEMO_SESSION, 'CREATE'),
        ('an init container', job(set_(lambda j: pod(j).update(initContainers=[copy.deepcopy(c0(j))]))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('two containers', job(set_(lambda j: pod(j)['containers'].append(dict(copy.deepcopy(c0(j)), name='two')))),
         'denied', DEMO_SESSION, 'CREATE'),
        ('no runAsNonRoot', job(set_(lambda j: pod(j)['securityContext'].pop('runAsNonRoot'))),
         'denied', DEMO_SESSION, 'CREATE'),
        # the policy binds demo-session in bakery-ia-clones only
        ('another image by another user', job(set_(lambda j: c0(j).update(image='busybox'))),
         'not-applicable', 'system:serviceaccount:kube-system:job-controller', 'CREATE'),
        ('another image in bakery-ia', job(set_(lambda j: (c0(j).update(image='busybox'),
                                                           j['metadata'].update(namespace='bakery-ia')))),
         'not-applicable', DEMO_SESSION, 'CREATE'),
    ]
    return cases


def main():
    ref_path, *overlays = sys.argv[1:]
    refs = load(ref_path)
    assert len(refs) == 1 and refs[0]['kind'] == 'Job', 'the reference must be one Job'
    ref = refs[0]
    failures = 0
    for path in overlays:
        label = os.path.basename(path).rsplit('.', 1)[0]
        objs = load(path)
        policies = [o for o in objs if o['kind'] == 'ValidatingAdmissionPolicy']
        bindings = [o for o in objs if o['kind'] == 'ValidatingAdmissionPolicyBinding']
        if len(policies) != 1 or len(bindings) != 1 or bindings[0]['spec']['policyName'] != policies[0]['metadata']['name']:
            print(f'  {label}: expected one ValidatingAdmissionPolicy and its binding', file=sys.stderr)
            failures += 1
            continue
        policy, binding = policies[0], bindings[0]
        if binding['spec'].get('validationActions') != ['Deny']:
            print(f'  {label}: the binding must Deny', file=sys.stderr)
            failures += 1
        params = next(o for o in objs if o['kind'] == 'ConfigMap' and o['metadata']['name'] == binding['spec']['paramRef']['name'])
        cases = variants(ref, params['data']['image'])
        tilt = ref['spec']['template']['spec']['containers'][0]['image'].split(':')[0] + ':tilt-0123456789abcdef'
        tilt_job = copy.deepcopy(ref)
        tilt_job['spec']['template']['spec']['containers'][0]['image'] = tilt
        # dev admits Tilt's per-build tags (imagePattern); prod never does
        cases.append((f'a Tilt build ({tilt})', tilt_job, 'allowed' if 'imagePattern' in params['data'] else 'denied',
                      DEMO_SESSION, 'CREATE'))
        before = failures
        counts = {}
        for name, job, expected, user, op in cases:
            got = admit(policy, binding, objs, job, user, op)
            outcome = got.split(':')[0]
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome != expected or '(error' in got:
                failures += 1
                print(f'  {label}: {name}: expected {expected}, got {got}', file=sys.stderr)
        # without its parameters the policy denies everything
        no_params = [o for o in objs if o is not params]
        if not admit(policy, binding, no_params, cases[0][1], DEMO_SESSION).startswith('denied'):
            failures += 1
            print(f'  {label}: without clone-job-policy the reference Job is not denied', file=sys.stderr)
        if failures == before:
            print(f'    {label}: {len(cases) + 1} cases as expected: ' +
                  ', '.join(f'{n} {k}' for k, n in sorted(counts.items())) + ', and denied without parameters')
    if failures:
        print(f'admission policy FAILED: {failures} case(s)', file=sys.stderr)
        return 1
    print('admission policy OK: the reference clone Job is admitted, every bad variant denied')
    return 0


if __name__ == '__main__':
    sys.exit(main())

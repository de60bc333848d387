#!/usr/bin/env python3
"""A stand-in of the Tilt API: runs a Tiltfile offline and checks what it asks for.

Used by scripts/check-deploy.sh (CI). Tiltfiles are Starlark; this evaluates one with a
real Starlark interpreter (starlark-pyo3, PyPI) in which only the Tilt functions below
exist, so:

- calling a function Tilt does not have (or one this stand-in does not know) fails;
- a wrong keyword argument fails (each function has Tilt's own parameter names);
- a missing file fails: docker_build's context and Dockerfile, kustomize's directory,
  k8s_yaml's files, local_resource's script and deps, live_update's sync/run paths;
- kustomize() really renders (kubectl kustomize), and k8s_resource() must name a
  workload of the rendered objects (or objects=['name:kind'] that exist and are not
  workloads), the way Tilt groups them;
- resource_deps must name resources that exist, without cycles;
- every docker_build image must be used by some rendered container;
- match_in_env_vars: an env var whose value names a built image (CLONE_JOB_IMAGE) needs
  it, or Tilt would leave the unbuilt tag there; and it must then have such an env var;
- decode_yaml_stream() parses what kustomize() rendered, so a Tiltfile can read it.

Usage: check-deploy-tilt.py [--kubectl KUBECTL] [Tiltfile]
"""

import argparse
import os
import subprocess
import sys

import starlark as sl
import yaml

TRIGGER_MODE_AUTO = 'auto'
TRIGGER_MODE_MANUAL = 'manual'


class TiltfileError(Exception):
    pass


def as_list(v):
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return list(v)


def pod_templates(obj):
    """Every PodTemplateSpec-like dict in an object (Tilt's notion of a workload)."""
    found = []

    def walk(node, key):
        if isinstance(node, dict):
            if key == 'template' and isinstance(node.get('spec'), dict) and 'containers' in node['spec']:
                found.append(node)
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(obj, None)
    return found


def images_of(obj):
    out = []
    specs = [t['spec'] for t in pod_templates(obj)]
    if obj.get('kind') == 'Pod':
        specs.append(obj.get('spec', {}))
    for spec in specs:
        for c in spec.get('containers', []) + spec.get('initContainers', []):
            if 'image' in c:
                out.append(c['image'])
    return out


def image_name(ref):
    """'registry/x:tag' -> 'registry/x' (Tilt matches a tagless ref on the name)."""
    ref = ref.split('@', 1)[0]
    last = ref.rsplit('/', 1)[-1]
    if ':' in last:
        ref = ref[: len(ref) - len(last)] + last.split(':', 1)[0]
    return ref


def env_values(obj):
    """Every container env var with a literal value (what match_in_env_vars rewrites)."""
    specs = [t['spec'] for t in pod_templates(obj)]
    return [e for spec in specs for c in spec.get('containers', []) + spec.get('initContainers', [])
            for e in c.get('env', []) if isinstance(e.get('value'), str) and e['value']]


class Tilt:
    def __init__(self, root, kubectl):
        self.root = root
        self.kubectl = kubectl
        self.images = []
        self.match_in_env_vars = {}
        self.objects = []
        self.resources = {}
        self.local_resources = {}
        self.deps = {}
        self.notes = []

    # -- helpers ---------------------------------------------------------------------
    def path(self, p, what, kind='any'):
        full = os.path.normpath(os.path.join(self.root, p))
        if not os.path.exists(full):
            raise TiltfileError(f'{what}: {p} does not exist')
        if kind == 'dir' and not os.path.isdir(full):
            raise TiltfileError(f'{what}: {p} is not a directory')
        if kind == 'file' and not os.path.isfile(full):
            raise TiltfileError(f'{what}: {p} is not a file')
        return full

    def labels(self, labels, what):
        for label in as_list(labels):
            if not label or len(label) > 63 or not all(ch.isalnum() or ch in '-_.' for ch in label):
                raise TiltfileError(f'{what}: invalid label {label!r}')

    def port_forwards(self, pfs, what):
        for pf in as_list(pfs):
            if isinstance(pf, int):
                continue
            parts = str(pf).split(':')
            if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts[-2:] if p):
                raise TiltfileError(f'{what}: invalid port_forward {pf!r}')

    def live_update(self, steps, context):
        for step in as_list(steps):
            if not isinstance(step, dict) or '__step__' not in step:
                raise TiltfileError(f'live_update: {step!r} is not a live_update step')
            if step['__step__'] == 'sync':
                full = self.path(step['local_path'], 'sync()')
                if not full.startswith(context):
                    raise TiltfileError(f"sync(): {step['local_path']} is outside the build context")
            for t in step.get('trigger', []):
                self.path(t, f"{step['__step__']}() trigger")
            for f in step.get('files', []):
                self.path(f, 'fall_back_on()')

    # -- the Tilt API --------------------------------------------------------------------
    def docker_build(self, ref, context, build_args=None, dockerfile='Dockerfile',
                     dockerfile_contents=None, live_update=None, match_in_env_vars=False,
                     ignore=None, only=None, entrypoint=None, target='', ssh=None,
                     network='', secret=None, extra_tag=None, container_args=None,
                     cache_from=None, pull=False, platform='', extra_hosts=None):
        ctx = self.path(context, f'docker_build({ref!r}) context', 'dir')
        if dockerfile_contents is None:
            self.path(dockerfile, f'docker_build({ref!r}) dockerfile', 'file')
        for p in as_list(only):
            self.path(os.path.join(context, p), f'docker_build({ref!r}) only')
        self.live_update(live_update, ctx)
        if any(image_name(i) == image_name(ref) for i in self.images):
            raise TiltfileError(f'docker_build: image {ref!r} defined twice')
        if not isinstance(match_in_env_vars, bool):
            raise TiltfileError(f'docker_build({ref!r}): match_in_env_vars must be a bool')
        self.images.append(ref)
        self.match_in_env_vars[ref] = match_in_env_vars

    @staticmethod
    def decode_yaml_stream(yaml_):
        return [o for o in yaml.safe_load_all(str(yaml_)) if o]

    def kustomize(self, pathToDir, kustomize_bin=None, flags=None):
        full = self.path(pathToDir, 'kustomize()', 'dir')
        self.path(os.path.join(pathToDir, 'kustomization.yaml'), 'kustomize()', 'file')
        cmd = [kustomize_bin, 'build'] if kustomize_bin else self.kubectl + ['kustomize']
        res = subprocess.run(cmd + [full] + as_list(flags), capture_output=True, text=True)
        if res.returncode != 0:
            raise TiltfileError(f'kustomize({pathToDir!r}) failed: {res.stderr.strip()}')
        return res.stdout

    def k8s_yaml(self, yaml_, allow_duplicates=False):
        texts = []
        for item in as_list(yaml_):
            if isinstance(item, str) and '\n' not in item and item.endswith(('.yaml', '.yml', '.json')):
                with open(self.path(item, 'k8s_yaml()', 'file')) as f:
                    texts.append(f.read())
            else:
                texts.append(item)
        for text in texts:
            for obj in yaml.safe_load_all(text):
                if not obj:
                    continue
                key = (obj['kind'].lower(), obj['metadata']['name'], obj['metadata'].get('namespace', ''))
                if not allow_duplicates and any(o['key'] == key for o in self.objects):
                    raise TiltfileError(f'k8s_yaml: duplicate object {key}')
                self.objects.append({'key': key, 'obj': obj, 'workload': bool(pod_templates(obj)) or obj['kind'] == 'Pod',
                                     'resource': None})

    def _select(self, selector, workloads):
        parts = selector.split(':')
        name, kind, ns = (parts + ['', ''])[:3]
        hits = [o for o in self.objects if o['workload'] == workloads and o['key'][1] == name
                and (not kind or o['key'][0] == kind.lower()) and (not ns or o['key'][2] == ns)]
        return hits

    def k8s_resource(self, workload='', new_name='', port_forwards=None, extra_pod_selectors=None,
                     trigger_mode=TRIGGER_MODE_AUTO, resource_deps=None, objects=None,
                     auto_init=True, pod_readiness='', links=None, labels=None,
                     discovery_strategy=''):
        what = f'k8s_resource({workload or new_name!r})'
        if not workload and not new_name:
            raise TiltfileError('k8s_resource: needs a workload or a new_name')
        name = new_name or workload
        if workload:
            hits = self._select(workload, True)
            if len(hits) != 1:
                known = sorted(o['key'][1] for o in self.objects if o['workload'])
                raise TiltfileError(f'{what}: no single workload named {workload!r} (workloads: {known})')
            if hits[0]['resource']:
                raise TiltfileError(f'{what}: workload already in resource {hits[0]["resource"]!r}')
            hits[0]['resource'] = name
        for sel in as_list(objects):
            hits = self._select(sel, False)
            if len(hits) != 1:
                raise TiltfileError(f'{what}: objects={sel!r} matches {len(hits)} non-workload objects')
            if hits[0]['resource']:
                raise TiltfileError(f'{what}: {sel!r} already in resource {hits[0]["resource"]!r}')
            hits[0]['resource'] = name
        if name in self.resources or name in self.local_resources:
            raise TiltfileError(f'{what}: resource {name!r} defined twice')
        if trigger_mode not in (TRIGGER_MODE_AUTO, TRIGGER_MODE_MANUAL):
            raise TiltfileError(f'{what}: invalid trigger_mode')
        self.port_forwards(port_forwards, what)
        self.labels(labels, what)
        for link in as_list(links):
            url = link['url'] if isinstance(link, dict) else link
            if not str(url).startswith(('http://', 'https://')):
                raise TiltfileError(f'{what}: invalid link {link!r}')
        self.resources[name] = {'deps': as_list(resource_deps)}

    def local_resource(self, name, cmd='', deps=None, trigger_mode=TRIGGER_MODE_AUTO,
                       resource_deps=None, ignore=None, auto_init=True, serve_cmd='',
                       cmd_bat='', serve_cmd_bat='', allow_parallel=False, links=None,
                       tags=None, env=None, serve_env=None, readiness_probe=None, dir='',
                       serve_dir='', labels=None):
        what = f'local_resource({name!r})'
        if name in self.resources or name in self.local_resources:
            raise TiltfileError(f'{what}: resource {name!r} defined twice')
        for c in (cmd, serve_cmd):
            argv0 = (c if isinstance(c, str) else ' '.join(as_list(c))).split()[:1]
            if argv0 and '/' in argv0[0]:
                full = self.path(os.path.join(dir, argv0[0]), what)
                if not os.access(full, os.X_OK):
                    raise TiltfileError(f'{what}: {argv0[0]} is not executable')
        for d in as_list(deps):
            self.path(d, f'{what} deps')
        if trigger_mode not in (TRIGGER_MODE_AUTO, TRIGGER_MODE_MANUAL):
            raise TiltfileError(f'{what}: invalid trigger_mode')
        self.labels(labels, what)
        self.local_resources[name] = {'deps': as_list(resource_deps)}

    @staticmethod
    def sync(local_path, remote_path):
        return {'__step__': 'sync', 'local_path': local_path, 'remote_path': remote_path}

    @staticmethod
    def run(cmd, trigger=None, echo_off=False):
        return {'__step__': 'run', 'cmd': cmd, 'trigger': as_list(trigger)}

    @staticmethod
    def fall_back_on(files):
        return {'__step__': 'fall_back_on', 'files': as_list(files)}

    @staticmethod
    def link(url, name=''):
        return {'url': url, 'name': name}

    def update_settings(self, max_parallel_updates=3, k8s_upsert_timeout_secs=30,
                        suppress_unused_image_warnings=None):
        if max_parallel_updates < 1 or k8s_upsert_timeout_secs < 1:
            raise TiltfileError('update_settings: values must be positive')

    def watch_settings(self, ignore=None):
        pass

    def watch_file(self, path):
        self.path(path, 'watch_file()')

    def allow_k8s_contexts(self, contexts):
        pass

    def read_file(self, file_path, default=None):
        try:
            with open(self.path(file_path, 'read_file()', 'file')) as f:
                return f.read()
        except TiltfileError:
            if default is None:
                raise
            return default

    def getenv(self, key, default=None):
        return os.environ.get(key, default)

    # -- the end-of-file checks Tilt makes when it assembles the resources ------------------
    def finish(self):
        known = set(self.resources) | set(self.local_resources)
        # workloads not named by k8s_resource become resources of their own name
        for o in self.objects:
            if o['workload'] and not o['resource']:
                o['resource'] = o['key'][1]
                known.add(o['key'][1])
                self.resources.setdefault(o['key'][1], {'deps': []})
        # a Service goes with the workload whose pod labels its selector matches
        for o in self.objects:
            sel = o['obj'].get('spec', {}).get('selector') if o['key'][0] == 'service' else None
            if o['resource'] or not sel:
                continue
            for w in self.objects:
                if w['workload'] and w['key'][2] == o['key'][2] and any(
                        sel.items() <= t.get('metadata', {}).get('labels', {}).items()
                        for t in pod_templates(w['obj'])):
                    o['resource'] = w['resource']
                    break
        graph = {n: r['deps'] for n, r in {**self.resources, **self.local_resources}.items()}
        for n, deps in graph.items():
            for d in deps:
                if d not in known:
                    raise TiltfileError(f'resource {n!r}: resource_deps names unknown resource {d!r}')
        state = {}

        def visit(n, trail):
            if state.get(n) == 'done':
                return
            if state.get(n) == 'visiting':
                raise TiltfileError('resource_deps cycle: ' + ' -> '.join(trail + [n]))
            state[n] = 'visiting'
            for d in graph.get(n, []):
                visit(d, trail + [n])
            state[n] = 'done'

        for n in graph:
            visit(n, [])
        used = {image_name(i) for o in self.objects for i in images_of(o['obj'])}
        for ref in self.images:
            if image_name(ref) not in used:
                raise TiltfileError(f'docker_build({ref!r}): no rendered container uses this image')
        for ref in self.images:
            in_env = sorted({f"{o['key'][1]}: {e['name']}={e['value']}" for o in self.objects
                             for e in env_values(o['obj']) if image_name(e['value']) == image_name(ref)})
            if in_env and not self.match_in_env_vars[ref]:
                raise TiltfileError(f'docker_build({ref!r}): env vars name the image ({in_env}) but '
                                    'match_in_env_vars is off: Tilt would leave the unbuilt tag there')
            if self.match_in_env_vars[ref] and not in_env:
                raise TiltfileError(f'docker_build({ref!r}): match_in_env_vars=True but no env var names the image')
            self.env_matches = in_env
        unassigned = [o['key'] for o in self.objects if not o['resource']]
        return {
            'images': self.images,
            'objects': len(self.objects),
            'resources': sorted(known),
            'uncategorized': unassigned,
            'order': self.order(graph),
        }

    @staticmethod
    def order(graph):
        out, seen = [], set()

        def visit(n):
            if n in seen:
                return
            seen.add(n)
            for d in graph.get(n, []):
                visit(d)
            out.append(n)

        for n in sorted(graph):
            visit(n)
        return out


PRELUDE = '''
os = struct(getenv = _getenv, environ = {}, path = struct(exists = _path_exists, join = _path_join))
config = struct(define_string = _config_define, define_string_list = _config_define,
                define_bool = _config_define, define_object = _config_define, parse = _config_parse)
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('tiltfile', nargs='?', default='Tiltfile')
    ap.add_argument('--kubectl', default='kubectl')
    args = ap.parse_args()

    tiltfile = os.path.abspath(args.tiltfile)
    if not os.path.isfile(tiltfile):
        print(f'{args.tiltfile}: no such file', file=sys.stderr)
        return 1
    tilt = Tilt(os.path.dirname(tiltfile), args.kubectl.split())

    module = sl.Module()
    for name in ('docker_build', 'kustomize', 'k8s_yaml', 'k8s_resource', 'local_resource',
                 'sync', 'run', 'fall_back_on', 'link', 'update_settings', 'watch_settings',
                 'watch_file', 'allow_k8s_contexts', 'read_file', 'decode_yaml_stream'):
        module.add_callable(name, getattr(tilt, name))
    module['TRIGGER_MODE_AUTO'] = TRIGGER_MODE_AUTO
    module['TRIGGER_MODE_MANUAL'] = TRIGGER_MODE_MANUAL
    module.add_callable('_getenv', tilt.getenv)
    module.add_callable('_path_exists', lambda p: os.path.exists(os.path.join(tilt.root, p)))
    module.add_callable('_path_join', os.path.join)
    module.add_callable('_config_define', lambda name, args=False, usage='': None)
    module.add_callable('_config_parse', lambda: {})

    globals_ = sl.Globals.extended_by([sl.LibraryExtension.StructType, sl.LibraryExtension.Print,
                                       sl.LibraryExtension.Json])
    try:
        sl.eval(module, sl.parse('<stand-in prelude>', PRELUDE), globals_)
        with open(tiltfile) as f:
            source = f.read()
        sl.eval(module, sl.parse(args.tiltfile, source, sl.Dialect.extended()), globals_)
        summary = tilt.finish()
    except (sl.StarlarkError, TiltfileError) as e:
        print(f'Tiltfile check FAILED: {e}', file=sys.stderr)
        return 1
    print(f"Tiltfile OK: images {summary['images']}, {summary['objects']} objects, "
          f"{len(summary['resources'])} resources")
    print('  start order: ' + ' -> '.join(summary['order']))
    if getattr(tilt, 'env_matches', None):
        print(f"  image rewritten in env vars (match_in_env_vars): {tilt.env_matches}")
    if summary['uncategorized']:
        print(f"  objects left to Tilt's 'uncategorized': {summary['uncategorized']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())

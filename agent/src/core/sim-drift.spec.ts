import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from './config.js';
import { driftRulesFor, parseSimDrift } from './sim-drift.js';

const minimal = { FLOTILLA_HUB_ADDRESS: 'hub:7443', FLOTILLA_HUB_INSECURE: 'true', FLOTILLA_CLUSTER_NAME: 'edge-1', FLOTILLA_BOOTSTRAP_TOKEN: 'bt-1' };

describe('parseSimDrift', () => {
  it.each([
    { name: 'a text value', text: 'web:ConfigMap/web:data.color=red', want: { app: 'web', kind: 'ConfigMap', name: 'web', path: 'data.color', value: 'red' } },
    { name: 'a JSON number', text: 'web-*:Deployment/api:spec.replicas=5', want: { app: 'web-*', kind: 'Deployment', name: 'api', path: 'spec.replicas', value: 5 } },
    { name: 'a JSON string keeps its quotes out', text: 'web:ConfigMap/web:data.size="5"', want: { path: 'data.size', value: '5' } },
    { name: 'a named list item in the path', text: '*:Deployment/web:spec.template.spec.containers[name=web].image=web:2', want: { path: 'spec.template.spec.containers[name=web].image', value: 'web:2' } },
    { name: 'a quoted key in the path', text: 'web:ConfigMap/web:data["app.conf"]=x', want: { path: 'data["app.conf"]', value: 'x' } },
    { name: 'an empty value', text: 'web:ConfigMap/web:data.color=', want: { path: 'data.color', value: '' } },
  ])('reads $name', ({ text, want }) => {
    const parsed = parseSimDrift(text);
    expect(parsed).toMatchObject({ ok: true, rules: [want] });
  });

  it('reads a comma-separated list in order, skipping empty entries', () => {
    const parsed = parseSimDrift(' a:ConfigMap/x:data.a=1 ,, b:Secret/y:data.b=Yg== ');
    expect(parsed.ok && parsed.rules.map((rule) => `${rule.app} ${rule.kind}/${rule.name} ${rule.path}`)).toEqual(['a ConfigMap/x data.a', 'b Secret/y data.b']);
  });

  it.each([
    { name: 'an entry without the object part', text: 'web:data.color=red', problem: 'expected <app glob>' },
    { name: 'an uppercase App pattern', text: 'Web:ConfigMap/web:data.color=red', problem: 'App pattern "Web"' },
    { name: 'a lowercase kind', text: 'web:configmap/web:data.color=red', problem: 'kind "configmap"' },
    { name: 'a missing object name', text: 'web:ConfigMap:data.color=red', problem: 'object name ""' },
    { name: 'a missing value', text: 'web:ConfigMap/web:data.color', problem: 'expected <path>=<value>' },
    { name: 'a bad path', text: 'web:ConfigMap/web:data..color=red', problem: 'path "data..color"' },
  ])('refuses $name, naming the entry', ({ text, problem }) => {
    const parsed = parseSimDrift(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.problems).toHaveLength(1);
      expect(parsed.problems[0]).toContain(JSON.stringify(text));
      expect(parsed.problems[0]).toContain(problem);
    }
  });
});

describe('driftRulesFor', () => {
  const parsed = parseSimDrift('web-*:ConfigMap/web:data.a=1,*:ConfigMap/other:data.b=2,api:ConfigMap/web:data.c=3');
  const rules = parsed.ok ? parsed.rules : [];
  it.each([
    { app: 'web-eu', kind: 'ConfigMap', name: 'web', want: ['data.a'] },
    { app: 'api', kind: 'ConfigMap', name: 'web', want: ['data.c'] },
    { app: 'api', kind: 'ConfigMap', name: 'other', want: ['data.b'] },
    { app: 'web-eu', kind: 'Secret', name: 'web', want: [] },
  ])('the rules for $kind/$name of App $app are $want', ({ app, kind, name, want }) => {
    expect(driftRulesFor(rules, app, kind, name).map((rule) => rule.path)).toEqual(want);
  });
});

describe('FLOTILLA_SIM_DRIFT in the agent configuration', () => {
  it('gives the sim driver its rules', () => {
    const result = loadAgentConfig({ ...minimal, FLOTILLA_SIM_DRIFT: 'web:ConfigMap/web:data.color=red' });
    expect(result.ok && result.config.driver).toMatchObject({ kind: 'sim', drift: [{ app: 'web', kind: 'ConfigMap', name: 'web', path: 'data.color', value: 'red' }] });
  });

  it('is a clear error naming the variable and the entry', () => {
    const result = loadAgentConfig({ ...minimal, FLOTILLA_SIM_DRIFT: 'web:ConfigMap/web:data.color=red,oops' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues).toEqual([expect.objectContaining({ path: 'FLOTILLA_SIM_DRIFT', code: 'invalid' })]);
      expect(result.issues[0]?.message).toContain('FLOTILLA_SIM_DRIFT entries must read <app glob>:<Kind>/<name>:<path>=<value>; "oops"');
    }
  });
});

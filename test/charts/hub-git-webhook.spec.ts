import { beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../hub/src/config/hub-config.js';
import { ensureHelm, render } from './helm.js';
import { containerOf, deploymentOf, envOf, podSpecOf, resolveEnv } from './rendered.js';

// The hub chart's push-webhook setting: the secrets file comes from an existing Secret, mounted
// read-only, and the hub's own loader finds it where the chart says.

beforeAll(() => ensureHelm(), 300_000);

const CA_KEY = Buffer.alloc(32, 5).toString('base64');
const SECRETS = { 'flotilla-flotilla-hub-database': 'postgresql://from-secret', 'flotilla-db': 'postgresql://from-secret', 'flotilla-flotilla-hub-ca-encryption-key': CA_KEY, 'flotilla-ca-key': CA_KEY };

describe('flotilla-hub: Git push webhook secrets', () => {
  it('mounts nothing and sets no secrets file by default (every webhook is refused)', () => {
    const manifests = render('flotilla-hub', ['hub-minimal']);
    const container = containerOf(manifests);
    expect(envOf(container, 'FLOTILLA_GIT_WEBHOOK_SECRETS_FILE')).toBeUndefined();
    expect(podSpecOf(deploymentOf(manifests)).volumes?.map((v) => v.name)).not.toContain('git-webhook-secrets');
    expect(loadHubConfig(resolveEnv(container, SECRETS)).gitWebhook.secretsFile).toBeUndefined();
  });

  it.each([
    { key: 'secrets.yaml', args: ['--set', 'gitWebhook.secretsSecret=fleet-webhooks'] },
    { key: 'hooks.yml', args: ['--set', 'gitWebhook.secretsSecret=fleet-webhooks', '--set', 'gitWebhook.secretsKey=hooks.yml'] },
  ])('mounts key $key of the named Secret read-only and points the hub at it', ({ key, args }) => {
    const manifests = render('flotilla-hub', ['hub-minimal'], args);
    const container = containerOf(manifests);
    const pod = podSpecOf(deploymentOf(manifests));
    expect(envOf(container, 'FLOTILLA_GIT_WEBHOOK_SECRETS_FILE')?.value).toBe(`/etc/flotilla/webhooks/${key}`);
    expect(container.volumeMounts).toContainEqual({ name: 'git-webhook-secrets', mountPath: '/etc/flotilla/webhooks', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'git-webhook-secrets', secret: { secretName: 'fleet-webhooks', items: [{ key, path: key }], defaultMode: 288 } });
    expect(loadHubConfig(resolveEnv(container, SECRETS)).gitWebhook.secretsFile).toBe(`/etc/flotilla/webhooks/${key}`);
  });
});

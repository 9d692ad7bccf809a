import { describe, expect, it } from 'vitest';
import { DEFAULT_GIT_WEBHOOK_MAX_BODY_KB, loadGitWebhookConfig, parseGitWebhookSecrets } from './git-webhook-config';

const load = (env: Record<string, string | undefined>) => {
  const problems: string[] = [];
  const config = loadGitWebhookConfig(env, problems);
  return { config, problems };
};

describe('loadGitWebhookConfig', () => {
  it('has no secrets file (every webhook refused) and a 1 MiB body limit when nothing is set', () => {
    expect(load({})).toEqual({ problems: [], config: { maxBodyBytes: DEFAULT_GIT_WEBHOOK_MAX_BODY_KB * 1024 } });
    expect(DEFAULT_GIT_WEBHOOK_MAX_BODY_KB * 1024).toBe(2 ** 20);
  });

  it('reads every setting', () => {
    expect(load({ FLOTILLA_GIT_WEBHOOK_SECRETS_FILE: '/etc/flotilla/webhooks/secrets.yaml', FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB: '256' })).toEqual({
      problems: [],
      config: { secretsFile: '/etc/flotilla/webhooks/secrets.yaml', maxBodyBytes: 256 * 1024 },
    });
  });

  it.each([
    { name: 'FLOTILLA_GIT_WEBHOOK_SECRETS_FILE', value: 'secrets.yaml', problem: 'FLOTILLA_GIT_WEBHOOK_SECRETS_FILE must be an absolute path' },
    { name: 'FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB', value: '0', problem: 'FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB must be an integer from 1 to 25600 (got "0")' },
    { name: 'FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB', value: '30000', problem: 'FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB must be an integer from 1 to 25600 (got "30000")' },
    { name: 'FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB', value: 'big', problem: 'FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB must be an integer from 1 to 25600 (got "big")' },
  ])('refuses $name=$value with a problem saying what is allowed', ({ name, value, problem }) => {
    expect(load({ [name]: value }).problems).toEqual([problem]);
  });
});

const SECRET = 'f3c1a9d27be04c6e8a5b';

describe('parseGitWebhookSecrets', () => {
  it.each([
    ['YAML', `github: ${SECRET}\ngitlab: "${SECRET}-gl"\ngitea: '${SECRET}-gt'\nbitbucket: ${SECRET}-bb\n`],
    ['JSON', JSON.stringify({ github: SECRET, gitlab: `${SECRET}-gl`, gitea: `${SECRET}-gt`, bitbucket: `${SECRET}-bb` })],
    ['YAML with a "|-" block scalar', `github: |-\n  ${SECRET}\ngitlab: ${SECRET}-gl\ngitea: ${SECRET}-gt\nbitbucket: ${SECRET}-bb\n`],
  ])('reads a secret per provider from %s', (_format, text) => {
    expect(parseGitWebhookSecrets(text)).toEqual({ kind: 'ok', secrets: { github: SECRET, gitlab: `${SECRET}-gl`, gitea: `${SECRET}-gt`, bitbucket: `${SECRET}-bb` } });
  });

  it('reads a file with some providers only, and an empty file as no provider', () => {
    expect(parseGitWebhookSecrets(`gitlab: ${SECRET}\n`)).toEqual({ kind: 'ok', secrets: { gitlab: SECRET } });
    expect(parseGitWebhookSecrets('')).toEqual({ kind: 'ok', secrets: {} });
  });

  it.each([
    ['a list', `- ${SECRET}\n`, 'it must be a mapping of provider to secret'],
    ['a bare string', SECRET, 'it must be a mapping of provider to secret'],
    ['broken YAML', 'github: [unclosed\n', 'it is not YAML or JSON'],
    ['an unknown provider', `gogs: ${SECRET}\n`, 'unknown key "gogs": the keys are github, gitlab, gitea, bitbucket'],
    ['a forgejo key', `forgejo: ${SECRET}\n`, 'unknown key "forgejo"'],
    ['a number', 'github: 12345678901234567890\n', 'github must be a string'],
    ['a short secret', 'github: "short"\n', 'github must be 16 to 1024 characters long'],
    ['a "|" block scalar (trailing newline)', `github: |\n  ${SECRET}\n`, 'github begins or ends with whitespace'],
    ['a repeated key', `github: ${SECRET}\ngithub: ${SECRET}-2\n`, 'it is not YAML or JSON'],
    ['an alias', `a: &x ${SECRET}\ngithub: *x\n`, 'it is not YAML or JSON'],
  ])('refuses %s with a problem that says what to fix', (_name, text, problem) => {
    const result = parseGitWebhookSecrets(text);
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.problems.join('\n')).toContain(problem);
  });

  it('lists every problem at once and never repeats a secret', () => {
    const result = parseGitWebhookSecrets(`github: |\n  ${SECRET}\ngitlab: tiny-secret\nsvn: ${SECRET}\n`);
    expect(result.kind === 'invalid' && result.problems).toHaveLength(3);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toContain('tiny-secret');
  });
});

import { Option, type Command } from 'commander';
import { configFilePath, readConfigFile, writeConfigFile } from '../config/config-file.js';
import { defaultContextName, deleteContext, upsertContext, useContext, type CliContext } from '../core/cli-config.js';
import type { View } from '../core/output-format.js';
import { hubEndpoints } from '../core/server-url.js';
import { HubClient } from '../client/hub-client.js';
import { MeDocument, type MeQuery } from '../gen/graphql.js';
import { oidcLogin } from '../oidc/oidc-login.js';
import { printOutput } from '../render/output.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { contextFor, outputOf, withOutput } from './shared.js';

type Me = MeQuery['me'];

const meView: View<Me> = {
  columns: [
    { header: 'ACTOR', cell: (me) => me.actor },
    { header: 'KIND', cell: (me) => me.kind },
    { header: 'ADMIN', cell: (me) => String(me.admin) },
    { header: 'PROJECTS', cell: (me) => me.projects.map((p) => `${p.project}:${p.role}`).join(',') || '-', flexible: true },
    { header: 'EXPIRES', cell: (me) => me.expiresAt ?? 'never', wide: true },
  ],
  name: (me) => me.actor,
};

export function registerLoginCommands(program: Command, io: Io): void {
  program
    .command('login')
    .description('log in to a hub (--server URL, with --token, FLOTILLA_TOKEN or --oidc) and store it as the current context')
    .addOption(new Option('--oidc', 'log in with OIDC (device code, or browser with PKCE)'))
    .option('--issuer <url>', 'OIDC issuer (with --oidc)')
    .option('--client-id <id>', 'OIDC client id (with --oidc)')
    .option('--audience <aud>', "OIDC resource/audience the hub accepts (its FLOTILLA_OIDC_AUDIENCE), with --oidc")
    .option('--scope <scope>', 'OIDC scopes (default "openid offline_access")')
    .addOption(new Option('--flow <flow>', 'OIDC flow (default: device code when the issuer offers it)').choices(['device', 'pkce']))
    .action(async (options: { oidc?: boolean; issuer?: string; clientId?: string; audience?: string; scope?: string; flow?: 'device' | 'pkce' }, command: Command) => {
      // --server is the program's option (every command takes it); login requires it.
      const globals = command.optsWithGlobals() as { server?: string; token?: string; context?: string };
      const server = globals.server ?? (io.env['FLOTILLA_SERVER'] || undefined);
      if (!server) throw new CliError("login needs the hub's address: flotilla login --server URL (e.g. http://localhost:4000)");
      const endpoints = hubEndpoints(server);
      let context: CliContext;
      const name = globals.context ?? defaultContextName(endpoints.graphqlUrl);
      if (options.oidc && globals.token) throw new CliError('--oidc and --token exclude each other: log in with one of them');
      if (options.oidc) {
        if (!options.issuer || !options.clientId) throw new CliError('--oidc needs --issuer URL and --client-id ID (the hub does not publish them)');
        const session = await oidcLogin({
          issuer: options.issuer,
          clientId: options.clientId,
          ...(options.audience ? { audience: options.audience } : {}),
          ...(options.scope ? { scope: options.scope } : {}),
          ...(options.flow ? { flow: options.flow } : {}),
          say: (line) => io.err(`${line}\n`),
          now: () => io.now(),
        });
        context = { name, server: endpoints.graphqlUrl, oidc: session };
      } else {
        const token = globals.token ?? (io.env['FLOTILLA_TOKEN'] || undefined);
        if (!token) throw new CliError('no token: pass --token TOKEN or set FLOTILLA_TOKEN (or log in with --oidc)');
        context = { name, server: endpoints.graphqlUrl, token };
      }
      const bearer = context.token ?? context.oidc!.accessToken;
      const client = new HubClient(endpoints, { token: async () => bearer, refresh: async () => false, loginHint: `flotilla login --server ${server}` });
      const { me } = await client.request(MeDocument, {});
      const file = configFilePath(io.env);
      writeConfigFile(file, upsertContext(readConfigFile(file), context));
      io.out(`Logged in to ${endpoints.graphqlUrl} as ${me.actor}${me.admin ? ' (admin)' : ''}; context "${name}" is current.\n`);
    });

  withOutput(program.command('whoami').description('who the hub takes you for, with your roles')).action(async (_options: unknown, command: Command) => {
    const { me } = await contextFor(io, command).client().request(MeDocument, {});
    printOutput(io, outputOf(command), me, meView, [me]);
  });

  const context = program.command('context').description('the hubs you logged in to');
  const contextView: View<{ name: string; server: string; auth: string; current: boolean }> = {
    columns: [
      { header: 'CURRENT', cell: (c) => (c.current ? '*' : '') },
      { header: 'NAME', cell: (c) => c.name },
      { header: 'SERVER', cell: (c) => c.server },
      { header: 'AUTH', cell: (c) => c.auth },
    ],
    name: (c) => `context/${c.name}`,
  };
  withOutput(context.command('list').description('list contexts (never shows tokens)')).action((_options: unknown, command: Command) => {
    const config = readConfigFile(configFilePath(io.env));
    const rows = config.contexts.map((c) => ({
      name: c.name,
      server: c.server,
      auth: c.oidc ? `oidc ${c.oidc.issuer}` : c.token ? 'token' : 'none',
      current: c.name === config.currentContext,
    }));
    printOutput(io, outputOf(command), { currentContext: config.currentContext, contexts: rows.map(({ current: _current, ...rest }) => rest) }, contextView, rows, 'No contexts: run flotilla login --server URL.');
  });
  context
    .command('use <name>')
    .description('make a context the current one')
    .action((name: string) => {
      const file = configFilePath(io.env);
      writeConfigFile(file, useContext(readConfigFile(file), name));
      io.out(`Context "${name}" is current.\n`);
    });
  context
    .command('delete <name>')
    .description('forget a context and its credentials')
    .action((name: string) => {
      const file = configFilePath(io.env);
      writeConfigFile(file, deleteContext(readConfigFile(file), name));
      io.out(`Context "${name}" deleted.\n`);
    });
}

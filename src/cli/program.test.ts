import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import type { CliIo } from './context.js';
import { eventSummary } from './commands/event.js';
import { parseObjectCounts } from './commands/status.js';
import { buildProgram, errorLine, runCli, usageErrorLine } from './program.js';

function memoryIo(
  env: Record<string, string> = {},
): CliIo & { stdout: { text: string }; stderr: { text: string } } {
  const stdout = { text: '', write: (s: string) => (stdout.text += s) };
  const stderr = { text: '', write: (s: string) => (stderr.text += s) };
  // A closed port: no test here may reach a real manager by accident.
  return { env: { VNP_SERVER: 'http://127.0.0.1:9', ...env }, stdout, stderr, cwd: '/nonexistent' };
}

/** Every command path: ['get'], ['token', 'create'], … */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [
    [...prefix, c.name()],
    ...commandPaths(c, [...prefix, c.name()]),
  ]);
}

const VERBS = [
  'server',
  'agent',
  'apply',
  'get',
  'delete',
  'tag',
  'untag',
  'attach',
  'detach',
  'check',
  'event',
  'status',
  'token',
  'audit',
];

describe('the vnp program', () => {
  const paths = commandPaths(buildProgram(memoryIo(), () => {}));

  it('has every verb of design.md §5', () => {
    const top = paths.filter((p) => p.length === 1).map((p) => p[0]);
    for (const verb of VERBS) expect(top).toContain(verb);
    expect(paths).toEqual(
      expect.arrayContaining([
        ['token', 'create'],
        ['token', 'list'],
        ['token', 'revoke'],
      ]),
    );
  });

  it.each(commandPaths(buildProgram(memoryIo(), () => {})).map((p) => [p.join(' '), p]))(
    '%s --help exits 0 with usage and examples',
    async (_name, path) => {
      const io = memoryIo();
      const code = await runCli([...(path as string[]), '--help'], io);
      expect(code).toBe(0);
      expect(io.stdout.text).toMatch(/^Usage: vnp /);
      expect(io.stdout.text).toContain('Examples:');
    },
  );

  it('top-level help lists the commands', async () => {
    const io = memoryIo();
    expect(await runCli(['--help'], io)).toBe(0);
    for (const verb of VERBS) expect(io.stdout.text).toContain(`  ${verb}`);
  });

  it('agent help documents its flags', async () => {
    const io = memoryIo();
    await runCli(['agent', '--help'], io);
    for (const flag of ['--server', '--host', '--token-file', '--underlay-ip'])
      expect(io.stdout.text).toContain(flag);
  });

  it.each([
    [['get'], /^error: VNP_ERR_VALIDATION: missing required argument 'kinds'\n$/],
    [
      ['get', 'widgets'],
      /^error: VNP_ERR_VALIDATION: unknown kind "widgets" \(expected one of: .*\)\n$/,
    ],
    [['bogus'], /^error: VNP_ERR_VALIDATION: unknown command 'bogus'\n$/],
    [
      ['delete', 'settings', 'default'],
      /^error: VNP_ERR_VALIDATION: Settings cannot be deleted: .*\n$/,
    ],
    [
      ['check', 'a', 'b'],
      /^error: VNP_ERR_VALIDATION: --port is required for tcp \(or use --proto icmp\)\n$/,
    ],
    [
      ['check', 'a', 'b', '--proto', 'udp', '--port', '0'],
      /^error: VNP_ERR_VALIDATION: .*expected an integer 1\.\.65535\n$/,
    ],
    [
      ['check', 'a', 'b', '--port', '70000'],
      /^error: VNP_ERR_VALIDATION: option '--port <port>' argument '70000' is invalid\. expected an integer 1\.\.65535\n$/,
    ],
    [
      ['check', 'a', 'b', '--proto', 'gre'],
      /^error: VNP_ERR_VALIDATION: .*expected one of tcp, udp, sctp, icmp\n$/,
    ],
    [
      ['get', 'iface', '-o', 'xml'],
      /^error: VNP_ERR_VALIDATION: .*expected json, yaml, table, wide, name or jsonpath=TEMPLATE\n$/,
    ],
    [
      ['apply'],
      /^error: VNP_ERR_VALIDATION: required option -f, --filename <path> not specified\n$/,
    ],
    [
      ['apply', '-f', 'missing.yaml'],
      /^error: VNP_ERR_VALIDATION: missing\.yaml: no such file or directory\n$/,
    ],
    [
      ['event', 'ids-alert'],
      /^error: VNP_ERR_VALIDATION: required option '-t, --target <iface>' not specified\n$/,
    ],
    [
      ['token', 'create', '--role', 'root'],
      /^error: VNP_ERR_VALIDATION: .*expected one of admin, operator, viewer, agent\n$/,
    ],
    [
      ['token', 'create', '--role', 'agent'],
      /^error: VNP_ERR_VALIDATION: --host is required for agent tokens\n$/,
    ],
    [['tag', 'web-1', 'novalue'], /^error: VNP_ERR_TAG_INVALID: .*key=value.*\n$/],
    [
      ['agent', '--host', 'h'],
      /^error: VNP_ERR_VALIDATION: --server is required \(or set VNP_SERVER\)\n$/,
    ],
    [
      ['agent', '--host', 'h', '--server', 'http://127.0.0.1:9', '--underlay-ip', '192.0.2.1'],
      /^error: VNP_ERR_VALIDATION: an agent token is required: --token-file F .*\n$/,
    ],
    [
      [
        'agent',
        '--host',
        'h',
        '--server',
        'http://127.0.0.1:9',
        '--token-file',
        '/nonexistent/agent.token',
      ],
      /^error: VNP_ERR_VALIDATION: --token-file \/nonexistent\/agent\.token: ENOENT.*\n$/,
    ],
  ])('%j fails with one line', async (argv, pattern) => {
    const io = memoryIo();
    if (argv[0] === 'agent') io.env = {};
    const code = await runCli(argv, io);
    expect(code).not.toBe(0);
    expect(io.stderr.text).toMatch(pattern);
    expect(io.stderr.text.trimEnd().split('\n')).toHaveLength(1);
  });

  it('an unreachable manager is one line naming the URL', async () => {
    const io = memoryIo();
    expect(await runCli(['get', 'iface'], io)).toBe(1);
    expect(io.stderr.text).toMatch(
      /^error: VNP_ERR_UNAVAILABLE: cannot reach the manager at http:\/\/127\.0\.0\.1:9: .*\n$/,
    );
  });

  it('prints the version', async () => {
    const io = memoryIo();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.stdout.text).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('errorLine', () => {
  it('is code and message on one line', () => {
    expect(errorLine(new VnpError('VNP_ERR_NOT_FOUND', 'no Interface\nnamed x'))).toBe(
      'error: VNP_ERR_NOT_FOUND: no Interface named x',
    );
    expect(errorLine(new Error('boom'))).toBe('error: VNP_ERR_INTERNAL: boom');
  });

  it('names failing tests of a refused apply', () => {
    const e = new VnpError('VNP_ERR_TEST_FAILED', '2 of 5 test(s) failed; nothing changed', {
      failed: [
        { name: 'a', expect: 'allow', got: 'deny' },
        { name: 'b', expect: 'deny', reason: 'VNP_ERR_UNKNOWN_ENDPOINT: no x' },
      ],
    });
    expect(errorLine(e)).toBe(
      'error: VNP_ERR_TEST_FAILED: 2 of 5 test(s) failed; nothing changed — a (expected allow, got deny), b (VNP_ERR_UNKNOWN_ENDPOINT: no x)',
    );
  });

  it('explains a manager that cannot bind', () => {
    const e = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:7400'), {
      syscall: 'listen',
      code: 'EADDRINUSE',
      address: '127.0.0.1',
      port: 7400,
    });
    expect(errorLine(e)).toBe(
      'error: VNP_ERR_UNAVAILABLE: cannot listen on 127.0.0.1:7400: address already in use (EADDRINUSE); set VNP_LISTEN',
    );
  });

  it('rewrites commander messages', () => {
    expect(usageErrorLine("error: unknown option '--x'\n")).toBe(
      "error: VNP_ERR_VALIDATION: unknown option '--x'\n",
    );
  });
});

describe('eventSummary', () => {
  it('names the reactions fired, the revision and when they undo themselves', () => {
    expect(
      eventSummary('ids-alert', 'web-2', {
        event: {
          id: 1,
          type: 'ids-alert',
          target: 'web-2',
          record: 'web-2',
          reactions: ['quarantine-on-ids-alert'],
        },
        revision: 12,
        expiries: [
          {
            record: 'web-2',
            reaction: 'quarantine-on-ids-alert',
            expiresAt: '2026-11-24T02:00:00.000Z',
          },
        ],
      }),
    ).toBe(
      'event ids-alert on web-2: reactions fired: quarantine-on-ids-alert (revision 12); quarantine-on-ids-alert undoes itself at 2026-11-24T02:00:00.000Z\n',
    );
    expect(
      eventSummary('scan', '10.0.0.5', { event: { record: 'web-1', reactions: [] }, expiries: [] }),
    ).toBe('event scan on 10.0.0.5 (record web-1): no reaction matched\n');
  });
});

describe('parseObjectCounts', () => {
  it('reads the vnp_objects gauge', () => {
    const text = [
      '# HELP vnp_objects Resources in the model by kind',
      '# TYPE vnp_objects gauge',
      'vnp_objects{kind="Subnet"} 4',
      'vnp_objects{kind="Interface"} 100000',
      'vnp_objects{kind="Bogus"} 1',
      'vnp_identities 12',
    ].join('\n');
    expect(parseObjectCounts(text)).toEqual({ Subnet: 4, Interface: 100000 });
  });
});

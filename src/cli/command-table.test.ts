import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  GLOBAL_VALUE_OPTIONS,
  LIGHT_COMMANDS,
  commandOf,
  lightCommandOf,
  type CommandModule,
} from './command-table.js';
import type { CliIo } from './context.js';
import { buildProgram, runCli } from './program.js';
import { programWith, rootProgram, runProgram, type Registrar } from './run-program.js';

function memoryIo(): CliIo & { stdout: { text: string }; stderr: { text: string } } {
  const stdout = { text: '', write: (s: string) => (stdout.text += s) };
  const stderr = { text: '', write: (s: string) => (stderr.text += s) };
  // A closed port: no test here may reach a real manager by accident.
  return { env: { VNP_SERVER: 'http://127.0.0.1:9' }, stdout, stderr, cwd: '/nonexistent' };
}

const topNames = (program: Command): string[] =>
  program.commands.flatMap((c) => [c.name(), ...c.aliases()]);

async function registrarOf(m: CommandModule): Promise<Registrar> {
  const exports = (await import(`./commands/${m.module}.ts`)) as Record<string, unknown>;
  const register = exports[m.register];
  if (typeof register !== 'function') throw new Error(`${m.module} exports no ${m.register}`);
  return register as Registrar;
}

describe('the light commands', () => {
  const whole = buildProgram(memoryIo(), () => {});

  it.each(LIGHT_COMMANDS.map((m) => [m.module, m]))(
    '%s: its register function alone defines exactly its names, as in the whole program',
    async (_m, m) => {
      const program = programWith(memoryIo(), () => {}, [await registrarOf(m)]);
      expect(topNames(program).sort()).toEqual([...m.names].sort());
      for (const name of m.names) expect(topNames(whole)).toContain(name);
    },
  );

  it('knows which global options take a value', () => {
    const withValue = rootProgram(memoryIo())
      .options.filter((o) => o.required || o.optional)
      .flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
    expect(withValue.sort()).toEqual([...GLOBAL_VALUE_OPTIONS].sort());
  });

  it.each([
    [['get', 'iface'], 'get'],
    [['-s', 'http://m:7400', 'get'], 'get'],
    [['--server', 'm', '--token', 't', 'describe', 'iface', 'x'], 'describe'],
    [['--server=m', '--ca-file=ca.pem', 'tag', 'web-1', 'a=b'], 'tag'],
    [['-shttp://m', 'status'], 'status'],
    [['--context', 'prod', 'identity'], 'identity'],
    [['--help'], undefined],
    [['-V'], undefined],
    [['--serverx', 'get'], undefined],
    [['--', 'get'], undefined],
    [[], undefined],
  ])('commandOf(%j) is %s', (argv, name) => {
    expect(commandOf(argv)).toBe(name);
  });

  it('names the light module a run needs, and none for the rest', () => {
    expect(lightCommandOf(['get', 'iface'])?.module).toBe('get');
    expect(lightCommandOf(['untag', 'web-1', 'a'])?.module).toBe('interface-ops');
    for (const argv of [['server'], ['completion', 'bash'], ['gte'], ['help', 'get'], ['-h']])
      expect(lightCommandOf(argv)).toBeUndefined();
  });

  it.each([
    ['get', '--help'],
    ['-s', 'http://127.0.0.1:9', 'identity', '--help'],
    ['tag', '--bogus'],
    ['delete', 'iface', 'x', '--bogus'],
    ['get', 'nosuchkind'],
    ['describe'],
    ['config', 'get-contexts', '--help'],
    ['history', '--help'],
    ['diff', 'x', '1'],
  ])('`vnp %s …` says the same from its own bundle as from the whole program', async (...argv) => {
    const light = lightCommandOf(argv)!;
    const alone = memoryIo();
    const aloneCode = await runProgram(argv, alone, [await registrarOf(light)]);
    const io = memoryIo();
    const code = await runCli(argv, io);
    expect([aloneCode, alone.stdout.text, alone.stderr.text]).toEqual([
      code,
      io.stdout.text,
      io.stderr.text,
    ]);
  });
});

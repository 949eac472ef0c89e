// The first step of `npm test` (scripts/ensure-chromium.js): nothing when Chromium is there; an
// install when this user may (root, or sudo without a password); otherwise one line saying what to
// run, at once. The decisions are checked on every kind of machine; the script itself where it can
// be run without installing anything (Chromium present, or CHROMIUM_PATH pointing nowhere).
import {spawnSync} from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');
const script = path.join(root, 'scripts/ensure-chromium.js');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const {decide, DEBIAN_CHROMIUM} = require(script) as {
  decide: (machine: Machine) => {action: 'none'|'install'|'fail'; sudo?: boolean; message?: string};
  DEBIAN_CHROMIUM: string;
};

interface Machine {
  chromiumPath: string;
  exists: (p: string) => boolean;
  isRoot: boolean;
  readonly sudoWithoutPassword: boolean;
  hasAptGet: boolean;
}

function machine(over: Partial<Omit<Machine, 'sudoWithoutPassword'>> & {sudo?: boolean} = {}):
    Machine & {sudoAsked: () => boolean} {
  let asked = false;
  return {
    chromiumPath: over.chromiumPath ?? DEBIAN_CHROMIUM,
    exists: over.exists ?? (() => false),
    isRoot: over.isRoot ?? false,
    get sudoWithoutPassword() {
      asked = true;
      return over.sudo ?? false;
    },
    hasAptGet: over.hasAptGet ?? true,
    sudoAsked: () => asked,
  };
}

describe('ensure-chromium: what it decides', () => {
  it('does nothing when Chromium is there', () => {
    expect(decide(machine({exists: (p) => p === DEBIAN_CHROMIUM}))).toEqual({action: 'none'});
  });

  it('installs as root, without asking sudo', () => {
    const m = machine({isRoot: true});
    expect(decide(m)).toEqual({action: 'install', sudo: false});
    expect(m.sudoAsked()).toBe(false);
  });

  it('installs through sudo when it needs no password', () => {
    expect(decide(machine({sudo: true}))).toEqual({action: 'install', sudo: true});
  });

  it('otherwise fails with one line that says what to run', () => {
    const plan = decide(machine({sudo: false}));
    expect(plan.action).toBe('fail');
    expect(plan.message).not.toContain('\n');
    expect(plan.message).toContain('sudo apt-get install -y chromium');
  });

  it('without apt-get, says to install Chromium and point CHROMIUM_PATH at it', () => {
    const plan = decide(machine({isRoot: true, hasAptGet: false}));
    expect(plan.action).toBe('fail');
    expect(plan.message).toMatch(/CHROMIUM_PATH/);
    expect(plan.message).not.toContain('\n');
  });

  it('installs nothing for a CHROMIUM_PATH that does not exist', () => {
    const plan = decide(machine({chromiumPath: '/opt/nowhere/chrome', isRoot: true}));
    expect(plan.action).toBe('fail');
    expect(plan.message).toContain('/opt/nowhere/chrome');
  });
});

describe('ensure-chromium: the script', () => {
  function run(env: Record<string, string>) {
    const started = Date.now();
    const result = spawnSync(process.execPath, [script], {encoding: 'utf8', env: {...process.env, ...env}});
    return {...result, seconds: (Date.now() - started) / 1000};
  }

  it('exits 0 and prints nothing when the Chromium it is pointed at exists', () => {
    const result = run({CHROMIUM_PATH: process.execPath});  // any existing file will do
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });

  it('stops at once, with one line and a non-zero exit, when it cannot provide Chromium', () => {
    const result = run({CHROMIUM_PATH: path.join(root, 'no-such-chromium')});
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^npm test: CHROMIUM_PATH is .*no-such-chromium, which does not exist/);
    expect(result.seconds).toBeLessThan(10);
  });
});

#!/usr/bin/env node
// The first step of `npm test`: the browser suites (test/browser/: WebGL, WebGPU, the demo) drive
// Debian's Chromium. When it is missing, install it if this user may (root, or sudo without a
// password: `apt-get install -y chromium`); otherwise stop at once with one line saying what to
// run, before the typecheck, the build and minutes of other suites.
//
// CHROMIUM_PATH (which the browser suites read too) names another Chromium; nothing is installed
// for it.
'use strict';

const fs = require('fs');
const {spawnSync} = require('child_process');

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const INSTALL = 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium';

/**
 * What to do, from what the machine offers: `{action: 'none'}`, `{action: 'install', sudo}` or
 * `{action: 'fail', message}` (one line). `machine.sudoWithoutPassword` is read only when needed.
 */
function decide(machine) {
  const {chromiumPath, exists, isRoot, hasAptGet} = machine;
  if (exists(chromiumPath)) return {action: 'none'};
  if (chromiumPath !== DEBIAN_CHROMIUM) {
    return {
      action: 'fail',
      message: `npm test: CHROMIUM_PATH is ${chromiumPath}, which does not exist; point it at a Chromium ` +
          `or unset it to use Debian's (${DEBIAN_CHROMIUM}).`,
    };
  }
  if (!hasAptGet) {
    return {
      action: 'fail',
      message: `npm test: the browser suites need Chromium at ${DEBIAN_CHROMIUM} (Debian's chromium package) and ` +
          'this machine has no apt-get: install Chromium and set CHROMIUM_PATH to it, then run npm test again.',
    };
  }
  if (isRoot) return {action: 'install', sudo: false};
  if (machine.sudoWithoutPassword) return {action: 'install', sudo: true};
  return {
    action: 'fail',
    message: `npm test: the browser suites need Chromium (${DEBIAN_CHROMIUM}), which is missing and needs root ` +
        'to install: run `sudo apt-get install -y chromium`, then npm test again.',
  };
}

function probe() {
  const chromiumPath = process.env.CHROMIUM_PATH || DEBIAN_CHROMIUM;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const succeeds = (cmd, args) => spawnSync(cmd, args, {stdio: 'ignore'}).status === 0;
  return {
    chromiumPath,
    exists: (p) => fs.existsSync(p),
    isRoot,
    // Only asked when needed: `sudo -n` fails at once instead of prompting for a password.
    get sudoWithoutPassword() {
      return !isRoot && succeeds('sudo', ['-n', 'true']);
    },
    hasAptGet: succeeds('sh', ['-c', 'command -v apt-get']),
  };
}

function main() {
  const machine = probe();
  const plan = decide(machine);
  if (plan.action === 'none') return 0;
  if (plan.action === 'fail') {
    console.error(plan.message);
    return 1;
  }
  console.log(`npm test: installing Debian's Chromium for the browser suites (${plan.sudo ? 'sudo ' : ''}apt-get install -y chromium)`);
  const command = plan.sudo ? ['sudo', ['-n', 'sh', '-c', INSTALL]] : ['sh', ['-c', INSTALL]];
  const result = spawnSync(command[0], command[1], {stdio: ['ignore', 'ignore', 'inherit']});
  if (result.status !== 0 || !fs.existsSync(DEBIAN_CHROMIUM)) {
    console.error(`npm test: installing Chromium failed (exit ${result.status}); run ` +
        '`sudo apt-get install -y chromium` by hand, then npm test again.');
    return 1;
  }
  return 0;
}

module.exports = {decide, DEBIAN_CHROMIUM};

if (require.main === module) process.exitCode = main();

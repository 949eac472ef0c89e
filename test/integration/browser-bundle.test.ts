// The library itself has no Node-only import: it bundles for the browser (tfjs stays external,
// as the user's single copy), while the Node helpers live in the separate 'tfjs-losses/node'.
import * as path from 'path';

import {buildSync} from 'esbuild';

describe('browser bundle', () => {
  it('bundles src/index.ts for the browser with no Node built-in', () => {
    const result = buildSync({
      entryPoints: [path.resolve(__dirname, '../../src/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      external: ['@tensorflow/tfjs'],
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/require\(["'](fs|path|child_process)["']\)/);
    expect(code).toContain('sparseCategoricalCrossentropy');
  });

  it('the Node helpers do not bundle for the browser', () => {
    expect(() => buildSync({
      entryPoints: [path.resolve(__dirname, '../../src/node/index.ts')],
      bundle: true, platform: 'browser', write: false, external: ['@tensorflow/tfjs'], logLevel: 'silent',
    })).toThrow(/fs|path/);
  });
});

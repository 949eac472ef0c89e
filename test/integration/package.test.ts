// The built package (npm run build, which `npm test` runs first): require('.') from the repo root
// exports every classification loss of API.md and the core API.
import * as path from 'path';

const root = path.resolve(__dirname, '../..');

describe('the built package', () => {
  it('require(".") exports every classification loss and the core API', () => {
    let pkg: Record<string, unknown>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      pkg = require(root);
    } catch (e) {
      throw new Error(`run 'npm run build' first: ${(e as Error).message}`);
    }
    for (const name of [
      'categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'nllLoss', 'binaryCrossentropy', 'klDivergence',
      'distillationLoss', 'binaryFocalCrossentropy', 'categoricalFocalCrossentropy', 'sparseCategoricalFocalCrossentropy',
      'hinge', 'squaredHinge', 'multiClassHinge', 'categoricalHinge', 'euclideanLoss',
      'get', 'register', 'registerAll', 'defineLoss', 'setValueChecks', 'enableWasmTraining',
    ]) {
      expect(typeof pkg[name]).toBe('function');
    }
  });

  it('require("tfjs-losses/node") resolves to the Node helpers', () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const node = require(path.join(root, 'dist/cjs/node'));
    expect(typeof node.fileSystem).toBe('function');
    expect(typeof node.useBackend).toBe('function');
  });
});

// Which backend runs which suite: cpu and wasm run the unit suite as jest projects, tensorflow
// (tfjs-node) joins as a third when it is installed, webgl and webgpu run in Chromium (this folder).
import * as path from 'path';

const hasTfjsNode = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

const config = require(path.resolve(__dirname, '../../jest.config.js')) as {projects: Array<{displayName: string}>};
const projects = config.projects.map((p) => p.displayName);

describe('backends', () => {
  it('cpu and wasm run the unit suite, webgl and webgpu the browser suite', () => {
    expect(projects).toEqual(expect.arrayContaining(['cpu', 'wasm', 'browser']));
  });

  if (hasTfjsNode) {
    it('tensorflow (tfjs-node) runs the unit suite', () => {
      expect(projects).toContain('tensorflow');
    });
  } else {
    it.skip('tensorflow backend skipped: @tensorflow/tfjs-node is not installed', () => undefined);
  }
});

// The unit suite runs once per backend (cpu, wasm, and tensorflow when tfjs-node is installed);
// integration tests (processes, training, examples) and the wasm-training tests (which compare
// wasm against cpu inside each test) run once; the browser project runs WebGL and WebGPU in
// Chromium.
const hasTfjsNode = (() => {
  try { require.resolve('@tensorflow/tfjs-node'); return true; } catch { return false; }
})();

const transform = {'^.+\\.ts$': ['ts-jest', {tsconfig: {isolatedModules: true}, diagnostics: false}]};

function backendProject(backend) {
  return {
    displayName: backend,
    testEnvironment: 'node',
    transform,
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    testPathIgnorePatterns: ['<rootDir>/test/integration/', '<rootDir>/test/backends/', '<rootDir>/test/browser/'],
    setupFilesAfterEnv: [`<rootDir>/test/setup/${backend}.ts`],
  };
}

module.exports = {
  projects: [
    backendProject('cpu'),
    backendProject('wasm'),
    ...(hasTfjsNode ? [backendProject('tensorflow')] : []),
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/backends/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup/integration.ts'],
    },
    {
      // WebGL and WebGPU in Debian's headless Chromium (test/browser/suite.ts), and which backend
      // runs where (the tensorflow backend is reported as skipped when tfjs-node is absent).
      displayName: 'browser',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
    },
  ],
  testTimeout: 120000,
};

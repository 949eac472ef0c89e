// The unit suite runs once per backend (cpu, wasm, and tensorflow when tfjs-node is installed);
// integration tests (processes, training, examples) and the wasm-training tests (which compare
// wasm against cpu inside each test) run once.
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
    testPathIgnorePatterns: ['<rootDir>/test/integration/', '<rootDir>/test/backends/'],
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
  ],
  testTimeout: 120000,
};

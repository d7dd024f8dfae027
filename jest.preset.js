// Shared jest settings: TypeScript through swc (type checking is the typecheck target's job), generous
// timeouts for tests that run real services and containers, and a summary file per project for tools/test.sh.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/e2e/**/*.spec.ts'],
  testTimeout: 60_000,
  reporters: ['default', path.join(__dirname, 'tools', 'jest-summary-reporter.js')],
};

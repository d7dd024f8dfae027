module.exports = { ...require('../../jest.preset.js'), displayName: 'fault-tests' };

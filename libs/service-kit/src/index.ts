export * from './errors';
export * from './config';
export * from './logger';
export * from './server';
export * from './handlers';
export * from './run-service';
export * from './health-client';

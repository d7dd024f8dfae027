// @berth/client: typed clients for berth's services and the workflows composed over them.
export * from './errors';
export * from './config';
export * from './clients';
export * from './streams';
export * from './image-config';
export * from './image-workflows';
export * from './io-session';
export * from './commit';
export * from './berth';
export * from './health';
export * from './human-duration';
export * from './volumes';
export * from './archive';
export * from './registry-auth';

export * from './free-port';
export * from './nats-server';
export * from './service-process';
export * from './test-images';
export * from './temp-dirs';
export * from './rootfs-fixture';
export * from './mounts';
export * from './debootstrap-image';

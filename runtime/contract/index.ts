export * from './errors';
export * from './schemas';
export * from './endpoint';
export * from './api';
export * from './behaviour';
export * from './realtime';
export * from './upload';

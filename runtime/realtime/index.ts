export * from './presence';
export * from './server';

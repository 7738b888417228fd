export * from './errors';
export * from './api';
export * from './contract/operations';
export * from './contract/hsm';
export * from './contract/clusters';
export * from './contract/checks';
export * from './contract/system';
export * from './contract/demo';

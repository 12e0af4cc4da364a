/** Public API: everything the package exports, and nothing else. */
export * from './fargate-traffic-mirror';
export * from './fargate-traffic-mirror-props';
export * from './capture-method';
export * from './mirror-target';
export * from './mirror-filter';
export * from './mirror-receiver';

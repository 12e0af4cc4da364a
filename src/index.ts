export * from './fargate-traffic-mirror';
export * from './mirror-target';
export * from './mirror-filter';

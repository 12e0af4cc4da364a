/** The physical id of a service's enrollment custom resource: the same from Create to Delete. Pure. */

/**
 * The physical id the enrollment of the service with `ownerId` has. CloudFormation keeps it for
 * the resource's life (an Update that returned another would make it delete the old resource), so
 * a Delete whose resource CloudFormation lists under this id is that service's.
 */
export function enrollmentPhysicalId(ownerId: string): string {
  return `fargate-traffic-mirror-${ownerId}`;
}

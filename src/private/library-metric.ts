/** Private: the one way the library's constructs describe a metric the functions or programs publish. */
import { aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { METRIC_NAMESPACE, SERVICE_DIMENSION, SERVICE_DIMENSION_VALUE } from '../contract/metric-names';

/**
 * `metricName` in the library's namespace, summed unless `props` say otherwise, with the
 * `service` dimension every publisher adds (Powertools' service name, and the Go programs' EMF)
 * and `dimensions`, which say whose it is (a mirror's owner id, a receiver, a stack).
 */
export function libraryMetric(metricName: string, dimensions: Record<string, string>, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName,
    statistic: 'Sum',
    ...props,
    dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_DIMENSION_VALUE, ...dimensions, ...props?.dimensionsMap },
  });
}

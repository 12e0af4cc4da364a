/**
 * Test support: a small evaluator of the identity-based IAM statements this library synthesizes,
 * to ask whether a request is allowed by the policies of a template as CloudFormation would
 * leave them.
 *
 * Follows the IAM User Guide, "Policy evaluation logic" (an explicit Deny wins, else an Allow is
 * needed, else the request is implicitly denied) and "IAM JSON policy elements: Condition
 * operators" (several keys in one operator, and several operators, must all match; several values
 * for one key match when any does; `StringLike` and `ArnLike` take `*` and `?`; a condition key
 * absent from the request matches no positive operator, and matches every `...Not...` operator).
 * Covers what our statements use: Action, Resource, and the operators StringEquals, StringLike,
 * StringNotEquals, ArnEquals, ArnLike, ArnNotEquals on keys such as aws:ResourceTag/...,
 * aws:RequestTag/..., aws:SourceArn. Intrinsics are resolved as far as our templates need:
 * Ref of pseudo parameters, Fn::Join, Fn::GetAtt to `arn:...:<logical id>`.
 */

/** One request to authorize. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys present in the request, such as `aws:ResourceTag/owner`. */
  readonly context?: Readonly<Record<string, string>>;
}

export type Decision = 'allow' | 'implicitDeny' | 'explicitDeny';

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012', 'AWS::URLSuffix': 'amazonaws.com' };

/** Resolves the intrinsics of a statement as far as our templates need. */
export function resolveIntrinsics(value: any): any {
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  if (value && typeof value === 'object') {
    if ('Ref' in value) return PSEUDO[value.Ref] ?? `ref:${value.Ref}`;
    if ('Fn::Join' in value) return (resolveIntrinsics(value['Fn::Join'][1]) as string[]).join(value['Fn::Join'][0]);
    if ('Fn::GetAtt' in value) return `arn:aws:getatt:${[value['Fn::GetAtt']].flat().join('.')}`;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIntrinsics(v)]));
  }
  return value;
}

/** IAM's wildcard match: `*` any run of characters, `?` one character; case-sensitive unless said. */
function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp('^' + pattern.split('').map(c => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$',
    ignoreCase ? 'i' : '');
  return re.test(value);
}

const list = (v: unknown): string[] => (v === undefined ? [] : [v].flat().map(String));

function conditionMatches(condition: Record<string, Record<string, unknown>> | undefined, context: Readonly<Record<string, string>>): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      const actual = context[key];
      const wanted = list(values);
      const negated = operator.includes('Not');
      if (actual === undefined) {
        if (!negated) return false;
        continue;
      }
      let any: boolean;
      switch (operator) {
        case 'StringEquals': case 'ArnEquals': case 'StringNotEquals': case 'ArnNotEquals':
          any = wanted.some(w => (operator.startsWith('Arn') ? wildcard(w, actual) : w === actual));
          break;
        case 'StringLike': case 'ArnLike': case 'StringNotLike': case 'ArnNotLike':
          any = wanted.some(w => wildcard(w, actual));
          break;
        default:
          throw new Error(`the evaluator does not know the condition operator ${operator}`);
      }
      if (negated ? any : !any) return false;
    }
  }
  return true;
}

/** Whether `statement` applies to `request` (action, resource and condition all match). */
function applies(statement: any, request: IamRequest): boolean {
  if (statement.NotAction || statement.NotResource) throw new Error('the evaluator does not know NotAction or NotResource');
  const actionMatches = list(statement.Action).some(a => wildcard(a, request.action, true));
  const resourceMatches = list(statement.Resource ?? '*').some(r => wildcard(r, request.resource));
  return actionMatches && resourceMatches && conditionMatches(statement.Condition, request.context ?? {});
}

/** The decision of identity-based `statements` (already resolved) on `request`. */
export function evaluate(statements: readonly any[], request: IamRequest): Decision {
  const matching = statements.filter(s => applies(s, request));
  if (matching.some(s => s.Effect === 'Deny')) return 'explicitDeny';
  return matching.some(s => s.Effect === 'Allow') ? 'allow' : 'implicitDeny';
}

/**
 * Every statement of every IAM policy (inline or managed) attached to the role `roleId` in a
 * template, resolved.
 */
export function statementsOfRole(resources: Record<string, any>, roleId: string): any[] {
  const attached = Object.entries(resources).filter(([, r]) => ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type)
    && list((r.Properties.Roles ?? []).map((x: any) => x.Ref)).includes(roleId));
  return attached.flatMap(([, r]) => resolveIntrinsics(r.Properties.PolicyDocument.Statement));
}

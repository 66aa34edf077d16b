/** Redocly's `recommended` ruleset; the build accepts zero errors and zero warnings. */
export const LINT_RULESET = 'recommended';

export interface LintProblem {
  severity: string;
  rule: string;
  message: string;
  where: string;
}

export async function lintOpenApi(json: string): Promise<LintProblem[]> {
  // Loaded on use: a quarter of a second that an unchanged spec does not need (see types.ts).
  const { createConfig, lintFromString } = await import('@redocly/openapi-core');
  const config = await createConfig({ extends: [LINT_RULESET] });
  const problems = await lintFromString({ source: json, absoluteRef: 'openapi.json', config });
  return problems
    .filter((p) => p.severity === 'error' || p.severity === 'warn')
    .map((p) => ({
      severity: p.severity,
      rule: p.ruleId,
      message: p.message,
      where: p.location[0]?.pointer ?? '',
    }));
}

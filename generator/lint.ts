import { createConfig, lintFromString } from '@redocly/openapi-core';

/** Redocly's `recommended` ruleset; the build accepts zero errors and zero warnings. */
export interface LintProblem {
  severity: string;
  rule: string;
  message: string;
  where: string;
}

export async function lintOpenApi(json: string): Promise<LintProblem[]> {
  const config = await createConfig({ extends: ['recommended'] });
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

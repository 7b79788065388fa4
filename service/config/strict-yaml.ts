import { parseDocument } from 'yaml';

/** YAML that does not parse cleanly, with the line of its first problem. */
export class YamlProblem extends Error {
  constructor(
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${line !== undefined ? `line ${line}: ` : ''}${problem}`);
    this.name = 'YamlProblem';
  }
}

/**
 * Parses a file an integrator wrote. Warnings count as problems too: the yaml package would print an
 * unresolved tag (a stray "!") to stderr and read the value as a string, where a configuration is
 * better refused, naming the line.
 */
export function parseStrictYaml(text: string): unknown {
  const doc = parseDocument(text, { logLevel: 'silent' });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    throw new YamlProblem(problem.linePos?.[0]?.line, problem.message.split('\n')[0] ?? '');
  }
  return doc.toJS();
}

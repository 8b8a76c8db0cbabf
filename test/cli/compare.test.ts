import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { LEARNING_OPTION_KEYS, withLearningPhaseOptions } from '../../src/cli/commands/grow_options.js';

const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

describe('ligo compare flags', () => {
  it('maps every learning-phase flag to its library option (none parsed and dropped)', () => {
    // getOptions is yargs' own record of declared options (not in its type declarations).
    const built = withLearningPhaseOptions(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown> } };
    const declared = Object.keys(built.getOptions().key).map(camel);
    // --data has a default of its own in each command; --learn-steps is compare's name for grow's steps.
    const mapped = new Set<string>([...LEARNING_OPTION_KEYS, 'data', 'learnSteps']);
    expect(declared.filter((k) => !mapped.has(k) && k !== 'help' && k !== 'version')).toEqual([]);
    expect([...mapped].filter((k) => !declared.includes(k))).toEqual([]);
  });
});

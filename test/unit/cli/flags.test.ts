import { describe, expect, it } from 'vitest';
import { parseBool, parseDuration, parseNamespace, parsePort, walkFlags } from '../../../src/cli/flags.js';

describe('parseDuration', () => {
  it('reads ms, s and m, and 0 only where allowed', () => {
    expect(parseDuration('--x', '150ms')).toBe(150);
    expect(parseDuration('--x', '1.5s')).toBe(1500);
    expect(parseDuration('--x', '2m')).toBe(120_000);
    expect(parseDuration('--x', '0', true)).toBe(0);
    expect(() => parseDuration('--x', '0ms')).toThrow(/--x: must be greater than zero/);
    expect(() => parseDuration('--x', '0')).toThrow(/--x: "0" is not a duration/);
    expect(() => parseDuration('--x', '15')).toThrow(/not a duration/);
    expect(() => parseDuration('--x', '-1s')).toThrow(/not a duration/);
  });
});

describe('scalar flags', () => {
  it('reads booleans, ports and namespaces and names the flag when refusing', () => {
    expect(parseBool('--b', 'true')).toBe(true);
    expect(parseBool('--b', 'false')).toBe(false);
    expect(() => parseBool('--b', 'yes')).toThrow(/--b: expected true or false/);
    expect(parsePort('--p', '0')).toBe(0);
    expect(parsePort('--p', '65535')).toBe(65535);
    expect(() => parsePort('--p', '65536')).toThrow(/--p: expected a port/);
    expect(() => parsePort('--p', '-1')).toThrow(/--p/);
    expect(parseNamespace('--n', 'ironlb-system')).toBe('ironlb-system');
    expect(() => parseNamespace('--n', 'Ironlb')).toThrow(/--n: "Ironlb" is not a valid namespace name/);
  });
});

describe('walkFlags', () => {
  const syntax = { withValue: new Set(['--a', '--b']), booleans: new Set(['--on']), usage: 'usage: test' };
  const walk = (argv: string[]): Array<[string, string | undefined]> => {
    const seen: Array<[string, string | undefined]> = [];
    walkFlags(argv, syntax, (name, value) => seen.push([name, value]));
    return seen;
  };

  it('takes values after a space or an equals sign, and bare booleans', () => {
    expect(walk(['--a', '1', '--b=2', '--on', '--on=false', '-h'])).toEqual([
      ['--a', '1'],
      ['--b', '2'],
      ['--on', undefined],
      ['--on', 'false'],
      ['--help', undefined],
    ]);
    expect(walk(['--a='])).toEqual([['--a', '']]);
  });

  it('refuses unknown flags with the usage, and a missing value', () => {
    expect(() => walk(['--c'])).toThrow(/unknown flag "--c"\nusage: test/);
    expect(() => walk(['--a'])).toThrow(/--a: needs a value/);
  });
});

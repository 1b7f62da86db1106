import * as assert from 'assert';
import { checkSettings, DEFAULTS } from '../../../src/vscode/settingsCheck';

describe('checkSettings', () => {
  it('uses the defaults without a word when nothing is set', () => {
    const { settings, problems } = checkSettings({});
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(settings, { ...DEFAULTS, devScriptNames: ['dev', 'start', 'serve'], projects: {}, portRange: { start: 3000, end: 3999 } });
  });

  it('keeps valid values as written', () => {
    const { settings, problems } = checkSettings({
      'portRange.start': 43000,
      'portRange.end': 43999,
      staleAfterMinutes: 0,
      sweepIntervalMinutes: 0.5,
      forceKillIfOccupied: true,
      killGracePeriodMs: 0,
      devScriptNames: ['develop'],
      projects: { 'apps/web': { port: 5173, portRange: { start: 5000, end: 5999 }, command: 'vite' } },
    });
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(settings.portRange, { start: 43000, end: 43999 });
    assert.strictEqual(settings.sweepIntervalMinutes, 0.5);
    assert.strictEqual(settings.forceKillIfOccupied, true);
    assert.deepStrictEqual(settings.devScriptNames, ['develop']);
    assert.deepStrictEqual(settings.projects, { 'apps/web': { port: 5173, portRange: { start: 5000, end: 5999 }, command: 'vite' } });
  });

  it('says an inverted range is inverted, naming both ends and the range used instead', () => {
    const { settings, problems } = checkSettings({ 'portRange.start': 43000, 'portRange.end': 3999 });
    assert.deepStrictEqual(settings.portRange, { start: 3000, end: 3999 });
    assert.deepStrictEqual(problems, [
      {
        key: 'devPorts.portRange',
        message: 'devPorts.portRange.start (43000) is after devPorts.portRange.end (3999): Dev Ports uses 3000–3999 instead.',
      },
    ]);
  });

  it('names a port end that is not a port and uses the default for that end only', () => {
    const { settings, problems } = checkSettings({ 'portRange.start': 'abc', 'portRange.end': 3500 });
    assert.deepStrictEqual(settings.portRange, { start: 3000, end: 3500 });
    assert.strictEqual(problems.length, 1);
    assert.strictEqual(problems[0].key, 'devPorts.portRange.start');
    assert.match(problems[0].message, /^devPorts\.portRange\.start must be a whole number from 1 to 65535, not "abc": Dev Ports uses 3000 instead\.$/);
  });

  it('refuses a negative grace period, a negative stale age and a string interval, one problem each', () => {
    const { settings, problems } = checkSettings({ killGracePeriodMs: -100, staleAfterMinutes: -1, sweepIntervalMinutes: '5' });
    assert.strictEqual(settings.killGracePeriodMs, 3000);
    assert.strictEqual(settings.staleAfterMinutes, 5);
    assert.strictEqual(settings.sweepIntervalMinutes, 5);
    assert.deepStrictEqual(
      problems.map((p) => p.key).sort(),
      ['devPorts.killGracePeriodMs', 'devPorts.staleAfterMinutes', 'devPorts.sweepIntervalMinutes'],
    );
    assert.ok(problems.find((p) => p.key === 'devPorts.killGracePeriodMs')!.message.includes('not -100: Dev Ports uses 3000 instead'));
  });

  it('refuses a devScriptNames that is not an array and says which list is used', () => {
    const { settings, problems } = checkSettings({ devScriptNames: 'dev' });
    assert.deepStrictEqual(settings.devScriptNames, ['dev', 'start', 'serve']);
    assert.strictEqual(problems.length, 1);
    assert.match(problems[0].message, /^devPorts\.devScriptNames must be a list .* not "dev": Dev Ports uses \["dev","start","serve"\] instead\.$/);
  });

  it('leaves out the non-strings of devScriptNames and says so', () => {
    const { settings, problems } = checkSettings({ devScriptNames: ['dev', 3, ''] });
    assert.deepStrictEqual(settings.devScriptNames, ['dev']);
    assert.strictEqual(problems.length, 1);
    assert.match(problems[0].message, /3, "" are left out: Dev Ports uses \["dev"\]\.$/);
  });

  it('uses the defaults for an empty devScriptNames, with a problem', () => {
    const { settings, problems } = checkSettings({ devScriptNames: [] });
    assert.deepStrictEqual(settings.devScriptNames, ['dev', 'start', 'serve']);
    assert.strictEqual(problems.length, 1);
  });

  it('keeps the valid fields of a devPorts.projects entry and reports each bad one', () => {
    const { settings, problems } = checkSettings({
      projects: { web: { port: 70000, portRange: { start: 10, end: 5 }, command: '', colour: 'red' }, api: 'fast', docs: { port: 4000 } },
    });
    assert.deepStrictEqual(settings.projects, { web: {}, docs: { port: 4000 } });
    const messages = problems.map((p) => p.message);
    assert.strictEqual(problems.length, 5, messages.join('\n'));
    assert.ok(problems.every((p) => p.key === 'devPorts.projects'));
    assert.ok(messages.some((m) => m.startsWith('devPorts.projects["web"].port must be a whole number from 1 to 65535, not 70000')));
    assert.ok(messages.some((m) => m.startsWith('devPorts.projects["web"].portRange must be')));
    assert.ok(messages.some((m) => m.startsWith('devPorts.projects["web"].command must be')));
    assert.ok(messages.some((m) => m.includes('"colour"')));
    assert.ok(messages.some((m) => m.startsWith('devPorts.projects["api"] must be an object')));
  });

  it('ignores a devPorts.projects that is an array, with a problem', () => {
    const { settings, problems } = checkSettings({ projects: ['web'] });
    assert.deepStrictEqual(settings.projects, {});
    assert.strictEqual(problems.length, 1);
  });

  it('refuses a forceKillIfOccupied that is not a boolean and keeps asking', () => {
    const { settings, problems } = checkSettings({ forceKillIfOccupied: 'yes' });
    assert.strictEqual(settings.forceKillIfOccupied, false);
    assert.match(problems[0].message, /must be true or false, not "yes"/);
  });
});

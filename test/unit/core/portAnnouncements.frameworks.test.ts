import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { announcedPorts, portTrouble } from '../../../src/core/portAnnouncements';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'frameworks');
const read = (dir: string, file: string) => fs.readFileSync(path.join(FIXTURES, dir, file), 'utf8');

describe('real framework output (test/fixtures/frameworks)', () => {
  // [folder, file, ports announced, trouble]
  const cases: Array<[string, string, number[], { kind: 'inUse' | 'prompt'; port?: number } | undefined]> = [
    ['vite-8.4.0', 'ok.txt', [4111], undefined],
    ['vite-8.4.0', 'strict.txt', [], { kind: 'inUse', port: 4112 }],
    ['vite-8.4.0', 'drift.txt', [4114], undefined],
    ['next-16.4.6', 'ok.txt', [4101], undefined],
    ['next-16.4.6', 'inuse.txt', [], { kind: 'inUse', port: 4103 }],
    ['rsbuild-2.3.2', 'ok.txt', [4115], undefined],
    ['rsbuild-2.3.2', 'strict.txt', [], { kind: 'inUse', port: 4102 }],
    ['rsbuild-2.3.2', 'drift.txt', [4115], undefined],
    ['vitepress-1.6.4', 'ok.txt', [4116], undefined],
    ['vitepress-1.6.4', 'strict.txt', [], { kind: 'inUse', port: 4117 }],
    ['vitepress-1.6.4', 'drift.txt', [4119], undefined],
    ['eleventy-3.1.8', 'ok.txt', [4119], undefined],
    ['eleventy-3.1.8', 'drift.txt', [4121], undefined],
    ['astro-5.18.2', 'ok.txt', [4131], undefined],
    ['astro-5.18.2', 'drift.txt', [4133], undefined],
    ['nuxt-4.4.5', 'drift.txt', [3000], undefined],
    ['storybook-10.6.7', 'ok.txt', [4135], undefined],
    ['storybook-10.6.7', 'prompt.txt', [], { kind: 'prompt', port: 4133 }],
    ['storybook-10.6.7', 'strict.txt', [], { kind: 'inUse', port: 4134 }],
    ['angular-21.2.28', 'prompt.txt', [], { kind: 'prompt', port: 4137 }],
    ['angular-21.2.28', 'inuse.txt', [], { kind: 'inUse', port: 4138 }],
    ['cra-5.0.1', 'prompt.txt', [], { kind: 'prompt', port: 4141 }],
    ['express-5.3.0', 'ok.txt', [4121], undefined],
    // Express 5's hello-world on a taken port says it listens and exits 0: nothing in the text says otherwise.
    ['express-5.3.0', 'inuse.txt', [4122], undefined],
  ];
  for (const [dir, file, ports, trouble] of cases) {
    it(`${dir}/${file}: announces ${ports.join(', ') || 'nothing'}${trouble ? `, ${trouble.kind} ${trouble.port}` : ''}`, () => {
      const text = read(dir, file);
      assert.deepStrictEqual(announcedPorts(text), ports);
      const found = portTrouble(text);
      assert.deepStrictEqual(found && { kind: found.kind, port: found.port }, trouble);
      if (found) assert.ok(found.line.length > 0 && !found.line.includes('\u001b'), found.line);
    });
  }
});

describe('portTrouble', () => {
  it('recognises Angular\'s question and the port it names', () => {
    const t = portTrouble('\u001b[1mPort 4200 is already in use.\r\nWould you like to use a different port? (Y/n)\u001b[22m');
    assert.deepStrictEqual(t, { kind: 'prompt', port: 4200, line: 'Would you like to use a different port? (Y/n)' });
  });

  it('recognises CRA and Docusaurus, Gatsby and Storybook questions', () => {
    assert.deepStrictEqual(
      portTrouble('? Something is already running on port 3000. Probably:\n  node x.js\n\nWould you like to run the app on another port instead? › (Y/n)'),
      { kind: 'prompt', port: 3000, line: 'Would you like to run the app on another port instead? › (Y/n)' },
    );
    assert.strictEqual(portTrouble('Something is already running at port 8000\n? Would you like to run the app at another port instead? › (Y/n)')?.port, 8000);
    assert.deepStrictEqual(
      portTrouble('│  Port 6006 is not available.\n│  Would you like to run Storybook on port 6007 instead?\n│  ● Yes / ○ No'),
      { kind: 'prompt', port: 6006, line: '│  Would you like to run Storybook on port 6007 instead?' },
    );
  });

  it('recognises failures: Node EADDRINUSE on any address, Angular without a terminal, Storybook --exact-port, Parcel', () => {
    assert.deepStrictEqual(portTrouble('Error: listen EADDRINUSE: address already in use 127.0.0.1:3000'), { kind: 'inUse', port: 3000, line: 'Error: listen EADDRINUSE: address already in use 127.0.0.1:3000' });
    assert.strictEqual(portTrouble("Error: Port 4200 is already in use. Use '--port' to specify a different port.")?.port, 4200);
    assert.strictEqual(portTrouble('Port 6006 is not available. Exiting because --exact-port was provided.')?.port, 6006);
    assert.strictEqual(portTrouble('🚨 Build failed.\n\nError: Port "1234" could not be used')?.port, 1234);
    assert.deepStrictEqual(portTrouble("[Nest] Error: listen EADDRINUSE: address already in use"), { kind: 'inUse', line: '[Nest] Error: listen EADDRINUSE: address already in use' });
  });

  it('does not take a move the server made by itself for trouble', () => {
    for (const line of ['Port 5173 is in use, trying another one...', '⚠ Port 3000 is in use, using available port 3001 instead.', 'info port 3000 is in use, using port 3001.', '[get-port] Unable to find an available port (tried 3000 on any host). Using alternative port 3000.']) {
      assert.strictEqual(portTrouble(line), undefined, line);
    }
  });
});

describe('announcedPorts on drift messages', () => {
  it('follows Nuxt moving outside the range, Vue CLI\'s App running at, and two servers in order', () => {
    assert.deepStrictEqual(announcedPorts('[get-port] Unable to find an available port (tried 3100 on any host). Using alternative port 3000.'), [3000]);
    assert.deepStrictEqual(announcedPorts('  App running at:\n  - Local:   http://localhost:8081/\n  - Network: http://192.0.2.2:8081/'), [8081]);
    assert.deepStrictEqual(announcedPorts('[api] listening on port 4001\n[web]   ➜  Local:   http://localhost:5174/'), [4001, 5174]);
  });
});

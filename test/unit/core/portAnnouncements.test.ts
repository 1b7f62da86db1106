import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { announcedPorts, stripAnsi } from '../../../src/core/portAnnouncements';

// Sample output as the frameworks print it to a TTY, colour codes included (see FIELD-NOTES, "What frameworks do
// on an occupied port"). ESC is written \u001b, BEL \u0007.
const E = '\u001b';

describe('announcedPorts', () => {
  it('reads the port of a Vite dev server that moved on, bold port and colours included', () => {
    const out = [
      `${E}[33mPort 5173 is in use, trying another one...${E}[39m`,
      '',
      `  ${E}[32m${E}[1mVITE${E}[22m v5.4.2${E}[39m  ${E}[2mready in ${E}[0m${E}[1m312${E}[22m${E}[2m${E}[0m ms${E}[22m`,
      '',
      `  ${E}[32m➜${E}[39m  ${E}[1mLocal${E}[22m:   ${E}[36mhttp://localhost:${E}[1m5174${E}[22m/${E}[39m`,
      `  ${E}[32m➜${E}[39m  ${E}[1mNetwork${E}[22m${E}[2m: use ${E}[22m${E}[1m--host${E}[22m${E}[2m to expose${E}[22m`,
    ].join('\r\n');
    assert.deepStrictEqual(announcedPorts(out), [5174]);
  });

  it('does not report the port Vite says is taken', () => {
    assert.deepStrictEqual(announcedPorts(`${E}[33mPort 5173 is in use, trying another one...${E}[39m\r\n`), []);
  });

  it("reads Next.js 14+'s 'using available port' warning", () => {
    const out = ` ${E}[33m${E}[1m⚠${E}[22m${E}[39m Port 3000 is in use, using available port 3001 instead.\r\n`;
    assert.deepStrictEqual(announcedPorts(out), [3001]);
  });

  it('reads the Local and Network URLs Next.js prints after moving, as one port', () => {
    const out = [
      ` ${E}[33m${E}[1m⚠${E}[22m${E}[39m Port 3000 is in use, using available port 3001 instead.`,
      `   ${E}[1m${E}[38;2;173;127;168m▲ Next.js 15.0.3${E}[39m${E}[22m`,
      '   - Local:        http://localhost:3001',
      '   - Network:      http://192.168.1.20:3001',
    ].join('\n');
    assert.deepStrictEqual(announcedPorts(out), [3001]);
  });

  it("reads older Next.js's 'trying 3001 instead' warning", () => {
    const out = `${E}[33m- warn${E}[39m Port 3000 is in use, trying 3001 instead.\n`;
    assert.deepStrictEqual(announcedPorts(out), [3001]);
  });

  it("reads Nuxt's get-port alternative port in the form with a colon", () => {
    const out = `${E}[33m[get-port] Unable to find an available port (tried 3000). Using alternative port: 3001${E}[39m\n`;
    assert.deepStrictEqual(announcedPorts(out), [3001]);
  });

  it("reads newer get-port-please's alternative port and not the range it tried", () => {
    const out = `${E}[33m[get-port] Unable to find an available port (tried 3000-3010 on host "localhost"). Using alternative port 3011.${E}[39m\n`;
    assert.deepStrictEqual(announcedPorts(out), [3011]);
  });

  it("reads get-port-please's random port", () => {
    assert.deepStrictEqual(announcedPorts('[get-port] Using random port 41234\n'), [41234]);
  });

  it("reads Astro's boxed Local line", () => {
    const out = [
      ` ${E}[42m${E}[30m astro ${E}[39m${E}[49m ${E}[32mv4.15.4${E}[39m ${E}[2mready in${E}[22m 402 ${E}[2mms${E}[22m`,
      '',
      `┃ Local    ${E}[36mhttp://localhost:4322/${E}[39m`,
      `┃ Network  ${E}[2muse --host to expose${E}[22m`,
    ].join('\n');
    assert.deepStrictEqual(announcedPorts(out), [4322]);
  });

  it("reads Create React App's Local URL with its bold port", () => {
    const out = [
      `${E}[32mCompiled successfully!${E}[39m`,
      '',
      `You can now view ${E}[1mweb${E}[22m in the browser.`,
      '',
      `  ${E}[1mLocal:${E}[22m            http://localhost:${E}[1m3001${E}[22m`,
      `  ${E}[1mOn Your Network:${E}[22m  http://192.168.1.20:${E}[1m3001${E}[22m`,
    ].join('\n');
    assert.deepStrictEqual(announcedPorts(out), [3001]);
  });

  it("does not take Create React App's 'already running on port' question for an announcement", () => {
    const out = `${E}[33m?${E}[39m ${E}[1mSomething is already running on port 3000.\n\nWould you like to run the app on another port instead?${E}[22m (Y/n)`;
    assert.deepStrictEqual(announcedPorts(out), []);
  });

  it("reads Angular's Live Development Server line without a URL", () => {
    const out = `** Angular Live Development Server is listening on localhost:4200 **\n`;
    assert.deepStrictEqual(announcedPorts(out), [4200]);
  });

  it("reads Angular's full Live Development Server line once", () => {
    const out = `${E}[32m** Angular Live Development Server is listening on localhost:4201, open your browser on http://localhost:4201/ **${E}[39m\n`;
    assert.deepStrictEqual(announcedPorts(out), [4201]);
  });

  it("reads webpack-dev-server's Loopback URL and skips a link-local IPv6 one on the same port", () => {
    const out = [
      `${E}[1m<i>${E}[22m ${E}[32m${E}[1m[webpack-dev-server] Project is running at:${E}[22m${E}[39m`,
      `${E}[1m<i>${E}[22m ${E}[32m${E}[1m[webpack-dev-server] Loopback: ${E}[36mhttp://localhost:8081/${E}[39m${E}[22m`,
      `${E}[1m<i>${E}[22m ${E}[32m${E}[1m[webpack-dev-server] On Your Network (IPv6): ${E}[36mhttp://[fe80::1%eth0]:8081/${E}[39m${E}[22m`,
    ].join('\n');
    assert.deepStrictEqual(announcedPorts(out), [8081]);
  });

  it("reads an Express-like 'listening on port' line", () => {
    assert.deepStrictEqual(announcedPorts(`Example app ${E}[32mlistening on port 3000${E}[39m\n`), [3000]);
  });

  it("reads a 'Server running at' URL", () => {
    assert.deepStrictEqual(announcedPorts(`Server running at ${E}[4mhttp://127.0.0.1:3000/${E}[24m\n`), [3000]);
  });

  it("reads 'listening on' followed by an address and port", () => {
    assert.deepStrictEqual(announcedPorts('Listening on 0.0.0.0:8787\n'), [8787]);
    assert.deepStrictEqual(announcedPorts('listening at [::]:8788\n'), [8788]);
  });

  it("does not read the first octet of an address after 'listening on' as a port", () => {
    assert.deepStrictEqual(announcedPorts('listening on 127.0.0.1\n'), []);
  });

  it("reads 'Server is running on port'", () => {
    assert.deepStrictEqual(announcedPorts('Server is running on port 4000.\n'), [4000]);
  });

  it("does not report the port of Node's EADDRINUSE error", () => {
    const out = "Error: listen EADDRINUSE: address already in use :::3000\n    at Server.setupListenHandle [as _listen2] (node:net:1872:16) {\n  code: 'EADDRINUSE',\n  port: 3000\n}";
    assert.deepStrictEqual(announcedPorts(out), []);
  });

  it('strips VS Code shell integration sequences ended by BEL around the output', () => {
    const out = `${E}]633;C\u0007${E}]633;E;npm run dev -- --port 3000;f00d\u0007  ➜  Local:   http://localhost:3001/\r\n${E}]633;D;0\u0007`;
    assert.deepStrictEqual(announcedPorts(out), [3001]);
  });

  it('strips an OSC sequence ended by ST so a URL in a command line it carries is not read', () => {
    const out = `${E}]633;E;node server.js http://localhost:9999/${E}\\${E}]633;C${E}\\ready\n`;
    assert.deepStrictEqual(announcedPorts(out), []);
  });

  it('reads a port drawn with ConPTY cursor moves in place of spaces', () => {
    assert.deepStrictEqual(announcedPorts(`Example app listening on${E}[1Cport${E}[3C3002${E}[K\r\n`), [3002]);
  });

  it('does not glue a port to the next line when ConPTY starts that line with a cursor position', () => {
    assert.deepStrictEqual(announcedPorts(`Local: http://localhost:5175${E}[5;1HNetwork: use --host`), [5175]);
  });

  it('returns ports in the order they appear, each once', () => {
    const out = 'API at http://localhost:8000/api\nLocal: http://localhost:5174/\nproxy -> http://localhost:8000\n';
    assert.deepStrictEqual(announcedPorts(out), [8000, 5174]);
  });

  it('ignores numbers that cannot be ports', () => {
    assert.deepStrictEqual(announcedPorts('Local: http://localhost:99999/\nlistening on port 70000\n'), []);
  });

  it("reads the drifts fixture app's announcement the way the integration test relies on", () => {
    // The integration suite starts test/fixtures/workspace/apps/drifts and expects the move to PORT + 1.
    const server = fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'workspace', 'apps', 'drifts', 'server.js'), 'utf8');
    const template = /console\.log\(`([^`]*)`\)/.exec(server)?.[1];
    assert.ok(template, 'the fixture prints its URL with console.log and a template literal');
    assert.deepStrictEqual(announcedPorts(template.replace('${port}', '41001') + '\n'), [41001]);
  });
});

describe('stripAnsi', () => {
  it('removes colours, erase and private-mode sequences and keeps the text', () => {
    assert.strictEqual(stripAnsi(`${E}[?25l${E}[2K${E}[1G${E}[38;5;208mready${E}[0m${E}[?25h`), 'ready');
  });

  it('removes an OSC 8 hyperlink and keeps its visible text', () => {
    assert.strictEqual(stripAnsi(`${E}]8;;http://localhost:3000/${E}\\open${E}]8;;${E}\\`), 'open');
  });

  it('removes an OSC sequence the chunk ended in the middle of', () => {
    assert.strictEqual(stripAnsi(`done${E}]633;E;npm run de`), 'done');
  });

  it('turns a cursor-forward into a space and a cursor position into a line break', () => {
    assert.strictEqual(stripAnsi(`a${E}[4Cb${E}[3;1Hc`), 'a b\nc');
  });
});

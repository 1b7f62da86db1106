const http = require('node:http');

const port = Number(process.env.PORT ?? 3000);
const started = new Date();

const page = () => `<!doctype html>
<meta charset="utf-8">
<title>web</title>
<style>body{font:16px system-ui;margin:4rem auto;max-width:36rem;color:#222}code{background:#eee;padding:2px 4px}</style>
<h1>web</h1>
<p>Served on port <code>${port}</code> by PID <code>${process.pid}</code>, up since ${started.toLocaleTimeString()}.</p>
<p>Stop it from the Dev Ports view: the port is free again the moment the view says so.</p>`;

http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page());
  })
  .listen(port, () => {
    console.log('\n  web ready\n');
    console.log(`  ➜  Local:   http://localhost:${port}/\n`);
  });

const http = require('node:http');

const port = Number(process.env.PORT ?? 3002);

const html = `<!doctype html>
<meta charset="utf-8">
<title>docs</title>
<style>body{font:16px Georgia,serif;margin:4rem auto;max-width:38rem;line-height:1.5}</style>
<h1>Docs</h1>
<p>This project's dev script is called <code>serve</code>: Dev Ports looks for the scripts named in
<code>devPorts.devScriptNames</code> (<code>dev</code>, <code>start</code>, <code>serve</code>) in that order.</p>`;

http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  })
  .listen(port, () => console.log(`docs: Local: http://localhost:${port}/`));

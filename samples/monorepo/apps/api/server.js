const http = require('node:http');

const port = Number(process.env.PORT ?? 3001);
let requests = 0;

http
  .createServer((req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service: 'api', port, pid: process.pid, requests, path: req.url }, null, 2));
  })
  .listen(port, () => {
    console.log(`api listening`);
    console.log(`Local: http://localhost:${port}/`);
  });

// A StateStore kept in one JSON file, as VS Code keeps a window's workspaceState on disk across extension hosts.
// Writes go to a temp file renamed into place, so a host SIGKILLed mid-write leaves the previous value.
'use strict';
const fs = require('fs');

function createFileStore(file) {
  const read = () => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return {};
    }
  };
  return {
    get(key, defaultValue) {
      const values = read();
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : defaultValue;
    },
    update(key, value) {
      const values = read();
      if (value === undefined) delete values[key];
      else values[key] = value;
      const tmp = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, JSON.stringify(values));
      fs.renameSync(tmp, file);
      return Promise.resolve();
    },
  };
}

module.exports = { createFileStore };

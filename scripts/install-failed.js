// The install script is `node-gyp-build || node scripts/install-failed.js`. node-gyp-build loads a
// prebuild when one fits and otherwise runs `node-gyp rebuild`; this runs only when that build
// failed too. It ends node-gyp's long log with one message that says what was tried (platform,
// arch, libc, the paths) and how to fix it -- the same message the library throws at run time --
// and fails the install.
'use strict';
const path = require('path');

const root = path.join(__dirname, '..');
// node-gyp-build skips the prebuilds when asked to build from source.
const problem = process.env.npm_config_build_from_source === 'true'
  ? 'the build from source failed'
  : 'no prebuild loads and the build from source failed';
let message;
try {
  message = require('../dist/cjs/native.js').noBinaryMessage(root, problem);
} catch {
  // dist/ is missing only in an unbuilt checkout.
  message = `convnd: ${problem} for ${process.platform}-${process.arch} (see above).`;
}
console.error(`\n${message}\n`);
process.exit(1);

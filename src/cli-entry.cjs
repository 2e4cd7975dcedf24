'use strict';
// What bin/tsnspawn runs (Makefile: dist/bundle/cli.cjs): the bundle
// (tsnspawn.cjs, beside it) with V8's code cache for it. Parsing the bundle
// costs about 6 ms of each start, a deserialised cache about 2 (measured
// with --cpu-prof on the 2-CPU VM); the cache must be on before the bundle
// is compiled, hence this file. A code cache is code: it lives where only
// root writes, never in /tmp. Where that directory cannot be made (not
// root), Node just compiles.
try {
  require('node:module').enableCompileCache?.('/var/cache/tsnspawn/compile-cache');
} catch {
  /* compile as usual */
}
require('./tsnspawn.cjs');

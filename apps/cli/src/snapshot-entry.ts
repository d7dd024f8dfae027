// The entry of the CLI's startup snapshot (dist/berth.blob, built by snapshot/build-snapshot.ts from an
// esbuild bundle of this file). Everything a verb can need is loaded here, while the snapshot is built, so it
// is compiled and initialized in the heap the blob holds; program.ts's lazy requires then find it loaded.
// Nothing here (or in what it loads) may read the environment, argv, the terminal, cwd or the clock at module
// load: that state would be frozen from build time.
import * as v8 from 'node:v8';
import { main } from './main';
import { buildProgram } from './program';
import './commands/run';
import './commands/lifecycle';
import './commands/images';
import './commands/inspector';
import './commands/system';
import './commands/volumes';
import './commands/cp';
import './commands/export';
import './commands/prune';
import './completion';
import './terminal';
import '@berth/client';
// The whole generated API (api-parts.ts's per-package files are part of it).
import '@berth/api';
import '@grpc/grpc-js';
// Built-ins the verbs use that a snapshot can hold (http2, tls... cannot: snapshot/lazy-builtin.ts).
import 'node:net';
import 'node:dns';
import 'node:zlib';
import 'node:stream';
import 'node:stream/promises';
import 'node:child_process';
import 'node:crypto';
import 'node:fs';
import 'node:fs/promises';
import 'node:os';

// The verb tree is built here too (commander reads the environment, argv and the terminal only when parsing
// or printing); a process parses one command line, so the one tree is never reused.
const program = buildProgram();

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // bin/berth runs `node --snapshot-blob berth.blob ... -- ARGS`: argv is [node, ...ARGS].
  void main(process.argv.slice(1), program);
});

/**
 * The `memgpt` binary (dist/cli.js): runs the command line (dist/cliMain.js) through V8's code
 * cache. Compiling the 0.8 MB bundle is a large share of a short command such as `memgpt search`
 * (about 40 ms of 300 on a slow machine), and Node 20 has no compile cache of its own: this file
 * keeps the compiled code of the last run and hands it back to V8 next time.
 *
 * The cache is derived data only. It lives in a folder of the temporary directory that belongs
 * to the user (one it does not own, or that others may write to, is not used: the cache is code
 * this process would run). Its name carries the Node version, the flags, the command and the
 * bundle's size and time, and V8 itself refuses data made by another version or for another source; a refused or
 * damaged file is compiled from source as before and rewritten. Any failure to read or write it
 * costs only the speed-up. Node 22's own compile cache is used where it exists, and
 * NODE_DISABLE_COMPILE_CACHE (Node's own switch) turns both off.
 */
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

const MAIN = path.join(__dirname, 'cliMain.js');
const CACHE_DIR_PREFIX = 'memgpt-compile-cache';

/** A short hash of a string (FNV-1a): names a cache file, nothing depends on it being strong. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The user's own cache folder, made if missing; undefined when it cannot be trusted or made. */
function cacheDir(): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const dir = path.join(os.tmpdir(), uid === undefined ? CACHE_DIR_PREFIX : `${CACHE_DIR_PREFIX}-${uid}`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory()) return undefined;
    // another user's folder, or one others can write to, could hold code planted for us to run
    if (uid !== undefined && (st.uid !== uid || (st.mode & 0o022) !== 0)) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

function runWithCodeCache(): void {
  const source = fs.readFileSync(MAIN, 'utf8');
  const stat = fs.statSync(MAIN);
  const dir = cacheDir();
  const prefix = `cli-${process.version}-${process.arch}-${shortHash(process.execArgv.join(' '))}-`;
  const build = `-${stat.size}-${Math.floor(stat.mtimeMs)}.bin`;
  // one cache a command: each holds the functions its command compiled, which `index` and `search` share little of
  const command = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '';
  const name = `${prefix}${/^[a-z-]{1,24}$/.test(command) ? command : 'other'}${build}`;
  const file = dir && path.join(dir, name);
  let cachedData: Buffer | undefined;
  if (file) {
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: MAIN, ...(cachedData ? { cachedData } : {}) });
  if (file && (cachedData === undefined || script.cachedDataRejected === true)) {
    // written at exit, so the functions this command compiled are in it too
    process.once('exit', () => {
      const temp = `${file}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temp, file);
        // the caches of earlier builds of the bundle will not be read again
        for (const old of fs.readdirSync(dir))
          if (old.startsWith(prefix) && !old.endsWith(build)) fs.rmSync(path.join(dir, old), { force: true });
      } catch {
        try {
          fs.rmSync(temp, { force: true });
        } catch {
          // a temporary file left in the user's own cache folder is harmless
        }
      }
    });
  }
  const main = new Module(MAIN, module);
  main.filename = MAIN;
  const compiled = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
  ) => void;
  compiled.call(main.exports, main.exports, createRequire(MAIN), main, MAIN, __dirname);
}

const nodeCache = (Module as { enableCompileCache?: () => unknown }).enableCompileCache;
const loadMain = (): unknown => createRequire(MAIN)(MAIN);
if (process.env.NODE_DISABLE_COMPILE_CACHE) loadMain();
else if (typeof nodeCache === 'function') {
  nodeCache();
  loadMain();
} else runWithCodeCache();

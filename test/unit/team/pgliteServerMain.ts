/**
 * The test server as its own process (the bench runs it so that server work does not share the
 * client's event loop, as with a real server): prints its URL on stdout, stops on SIGTERM.
 */
import { startPgliteServer } from './pgliteServer';

void startPgliteServer().then((server) => {
  process.stdout.write(`${server.url}\n`);
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
});

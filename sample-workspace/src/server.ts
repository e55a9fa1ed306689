import { createServer } from 'node:http';
import { loadConfig } from './config';
import { buildRouter } from './http/routes';
import { sendJson } from './http/router';
import { NoteStore } from './store/noteStore';
import { TodoStore } from './store/todoStore';

async function main(): Promise<void> {
  const config = loadConfig();
  const notes = new NoteStore(config.dataDir);
  await notes.load();
  const router = buildRouter(config, notes, new TodoStore());
  createServer((req, res) => {
    router.handle(req, res).catch((e: unknown) => sendJson(res, 400, { error: e instanceof Error ? e.message : String(e) }));
  }).listen(config.port, () => console.log(`notes-service on http://localhost:${config.port}`));
}

void main();

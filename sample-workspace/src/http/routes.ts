import type { Config } from '../config';
import { searchNotes } from '../search';
import type { NoteStore } from '../store/noteStore';
import type { TodoStore } from '../store/todoStore';
import { readBody, Router, sendJson } from './router';

export function buildRouter(config: Config, notes: NoteStore, todos: TodoStore): Router {
  return new Router()
    .add('GET', '/notes', async (req, res) => {
      const q = new URL(req.url ?? '/', 'http://localhost').searchParams.get('q');
      sendJson(res, 200, q ? searchNotes(notes.list(), q) : notes.list());
    })
    .add('POST', '/notes', async (req, res) => {
      const body = (await readBody(req)) as { title?: string; body?: string };
      sendJson(res, 201, await notes.create(body.title ?? '', body.body ?? ''));
    })
    .add('GET', '/notes/:id', async (_req, res, { id }) => {
      const note = notes.get(id!);
      sendJson(res, note ? 200 : 404, note ?? { error: 'No such note' });
    })
    .add('PATCH', '/notes/:id', async (req, res, { id }) => {
      const changes = (await readBody(req)) as { title?: string; body?: string };
      const note = await notes.update(id!, changes);
      sendJson(res, note ? 200 : 404, note ?? { error: 'No such note' });
    })
    .add('DELETE', '/notes/:id', async (req, res, { id }) => {
      if (!config.adminToken || req.headers.authorization !== `Bearer ${config.adminToken}`) {
        return sendJson(res, 403, { error: 'Deleting needs the admin token' });
      }
      sendJson(res, (await notes.remove(id!)) ? 204 : 404, {});
    })
    .add('GET', '/todos', async (_req, res) => sendJson(res, 200, todos.ordered()))
    .add('POST', '/todos', async (req, res) => {
      const body = (await readBody(req)) as { text?: string; priority?: 'low' | 'normal' | 'high'; due?: string | null };
      sendJson(res, 201, todos.add(body.text ?? '', body.priority, body.due ?? null));
    })
    .add('POST', '/todos/:id/done', async (_req, res, { id }) => {
      const todo = todos.complete(id!);
      sendJson(res, todo ? 200 : 404, todo ?? { error: 'No such todo' });
    });
}
